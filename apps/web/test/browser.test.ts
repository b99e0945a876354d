// The page end to end in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// prepares the tiny-tle assets (scripts/prepare-assets.ts), builds the page with Vite, serves it
// from 127.0.0.1 with a request log, and drives the UI like a user. Checks:
//  - greedy token-level routing of the four sample prompts on wasm gives the same token ids, text
//    and per-token mixtures as the engine on @lora-tle/backend-node over the same pack and store,
//    computed in this process;
//  - the other modes (base, adapter:<name>, uniform, prompt, every:k), a routing window and seeded
//    sampling give the mixtures they promise and the same tokens as Node;
//  - tokens, legend and the weight chart are on the page (screenshot in test-results/);
//  - the page's main-thread heartbeat keeps ticking while tokens stream (the model runs in a worker);
//  - a reload reads the model, weights, tokenizer and profiles from the Cache API (0 requests);
//  - browser wasm tokens/s next to Node CPU tokens/s, same prompt and settings, measured in this
//    run (printed and written to test-results/speed.json);
//  - the webgpu provider (SwiftShader Vulkan) gives the same tokens;
//  - ?device=simd (@lora-tle/backend-simd's kernels on the same cached pack files) gives the same
//    tokens and mixtures, and its tokens/s next to onnxruntime-web's wasm (test-results/speed-simd.json);
//  - with the server gone, the page starts from its service worker and the Cache API and generates.
// Skipped when chromium is not installed (tools/ci/install-system-deps.sh installs it).

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPrompts } from '../../cli/src/commands/demo.js';
import { openGenerationRuntime, type GenerationRuntime } from '../../cli/src/generation-runtime.js';
import { serveDirectory, type StaticServer } from '../../../packages/backend-web/src/test-support.js';
import { prepareAssets, type PreparedAssets } from '../scripts/prepare-assets.js';
import type { PageState, RunRecord } from '../src/main.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// WebGPU without a GPU: Chromium's bundled SwiftShader Vulkan (software; correctness only).
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'];
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = join(APP_DIR, 'test-results');
const MAX_NEW_TOKENS = 32;
const SPEED_ROUNDS = 9;
if (!existsSync(CHROMIUM)) console.warn(`[apps/web browser test] skipped: ${CHROMIUM} is missing; run tools/ci/install-system-deps.sh`);

interface NodeRun {
  tokenIds: number[];
  text: string;
  weights: number[][];
  tokensPerSecond: number;
  modelMs: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function launch(userDataDir: string, args: string[]): Promise<BrowserContext> {
  // A persistent context on a fresh directory: the reload below sees the same Cache API storage.
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args });
}

async function openPage(context: BrowserContext, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  await waitReady(page);
  return { page, errors };
}

async function waitReady(page: Page): Promise<PageState> {
  await page.waitForFunction(() => window.loraTle?.ready === true || window.loraTle?.loadError != null, undefined, { timeout: 90_000 });
  const state = await page.evaluate(() => window.loraTle);
  expect(state.loadError).toBeNull();
  return state;
}

/** Fills the controls like a user and clicks Generate; returns the finished run. */
async function generateOnPage(page: Page, sampleIndex: number, mode: string, sampling = { temperature: 0, seed: 0 }, routingWindow: number | null = null): Promise<RunRecord> {
  await page.selectOption('#sample', String(sampleIndex));
  const every = /^every:(\d+)$/.exec(mode);
  await page.selectOption('#mode', every ? 'every' : mode);
  if (every) await page.fill('#every-k', every[1] as string);
  await page.fill('#window', String(routingWindow ?? 0));
  await page.fill('#temperature', String(sampling.temperature));
  await page.fill('#seed', String(sampling.seed));
  await page.fill('#max-tokens', String(MAX_NEW_TOKENS));
  const runId = (await page.evaluate(() => window.loraTle.runs.length)) + 1;
  await page.click('#generate');
  await page.waitForFunction((id) => {
    const run = window.loraTle.runs.find((candidate) => candidate.runId === id);
    return run !== undefined && (run.done !== null || run.error !== null);
  }, runId, { timeout: 60_000 });
  const run = await page.evaluate((id) => window.loraTle.runs.find((candidate) => candidate.runId === id), runId);
  expect(run?.error).toBeNull();
  return run as RunRecord;
}

async function generateInNode(runtime: GenerationRuntime, prompt: string, mode = 'token', sampling = { temperature: 0, seed: 0 }, routingWindow: number | null = null): Promise<NodeRun> {
  const run: NodeRun = { tokenIds: [], text: '', weights: [], tokensPerSecond: 0, modelMs: 0 };
  const window = routingWindow === null ? {} : { routingWindow };
  for await (const event of runtime.engine.generate({ prompt, mode, maxNewTokens: MAX_NEW_TOKENS, sampling, ...window })) {
    if (event.type === 'token') run.weights.push(Array.from(event.mix.weights));
    else Object.assign(run, { tokenIds: event.tokenIds, text: event.text, tokensPerSecond: event.timing.tokensPerSecond, modelMs: event.timing.modelMs });
  }
  return run;
}

function expectSameRun(browser: RunRecord, node: NodeRun, label: string): void {
  expect(browser.done?.tokenIds, `${label}: token ids`).toEqual(node.tokenIds);
  expect(browser.done?.text, `${label}: text`).toBe(node.text);
  expect(browser.weights.length, `${label}: one mixture per token`).toBe(node.weights.length);
  browser.weights.forEach((row, step) =>
    row.forEach((weight, adapter) => expect(Math.abs(weight - (node.weights[step]?.[adapter] ?? NaN)), `${label}: weight ${adapter} at token ${step}`).toBeLessThan(1e-6)),
  );
}

describe.skipIf(!existsSync(CHROMIUM))('the page in headless Chromium', () => {
  const temp = mkdtempSync(join(tmpdir(), 'lora-tle-web-'));
  let assets: PreparedAssets;
  let server: StaticServer;
  let runtime: GenerationRuntime;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const nodeRuns: NodeRun[] = [];

  beforeAll(async () => {
    assets = await prepareAssets({ quiet: true });
    const site = join(temp, 'site');
    process.env['LORA_TLE_WEB_ASSETS'] = 'skip'; // prepared just above
    await build({ configFile: join(APP_DIR, 'vite.config.ts'), logLevel: 'error', build: { outDir: site, emptyOutDir: true } });
    server = await serveDirectory(site);
    runtime = await openGenerationRuntime({ packDir: assets.packDir, storeDir: assets.storeDir });
    context = await launch(join(temp, 'profile'), CHROMIUM_FLAGS);
    mkdirSync(RESULTS_DIR, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await runtime?.close();
    await server?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  it('loads the tiny-tle assets with the four sample prompts of `lora-tle demo`', async () => {
    ({ page, errors } = await openPage(context, `${server.url}index.html?device=wasm`));
    const state = await page.evaluate(() => window.loraTle);
    expect(state.device).toBe('wasm');
    expect(state.adapters).toEqual(['math', 'science', 'code', 'reading']);
    expect(state.samples.map((sample) => sample.task)).toEqual(state.adapters);
    expect(state.samples).toEqual(demoPrompts(assets.fixtureDir));
    // the profiles were made by a fitted hashing embedder; the worker fetched its fit to restore it
    const fit = assets.index.embedder.settings['fit'];
    expect(fit).toMatch(/^[0-9a-f]{16}$/);
    expect(state.filesDownloaded).toEqual(expect.arrayContaining(['model.onnx', 'base.weights', 'adapters.weights', 'pack/tokenizer.json', 'store/manifest.json', `store/embedders/hashing-${fit}.safetensors`]));
    expect(state.filesFromCache).toEqual([]);
    expect(await page.locator('#legend span').allTextContents()).toEqual(state.adapters);
  }, 90_000);

  it('streams greedy token-level routing equal to the Node backend, token for token, for every sample', async () => {
    const state = await page.evaluate(() => window.loraTle);
    for (const [index, sample] of state.samples.entries()) {
      const browserRun = await generateOnPage(page, index, 'token');
      const nodeRun = await generateInNode(runtime, sample.prompt);
      nodeRuns.push(nodeRun);
      expect(nodeRun.tokenIds.length, `${sample.task}: Node generated tokens`).toBeGreaterThan(0);
      expectSameRun(browserRun, nodeRun, sample.task);
      // the streamed deltas (plus the tail released at the end) are the text
      expect(browserRun.texts.join('') + browserRun.done!.tail).toBe(nodeRun.text);
      // token mode routes: every mixture sums to 1 (the paper rule ends in a softmax)
      for (const row of browserRun.weights) expect(Math.abs(row.reduce((sum, weight) => sum + weight, 0) - 1)).toBeLessThan(1e-5);
    }
    // what is on screen after a run of the sample with the longest answer: one span per token,
    // coloured, with its mixture in the tooltip; one chart band per adapter
    const longest = nodeRuns.reduce((best, run, index) => (run.tokenIds.length > nodeRuns[best]!.tokenIds.length ? index : best), 0);
    expectSameRun(await generateOnPage(page, longest, 'token'), nodeRuns[longest]!, `${state.samples[longest]!.task} again`);
    expect(await page.locator('#output .token').count()).toBe(nodeRuns[longest]!.weights.length);
    const titles = await page.locator('#output .token').evaluateAll((spans) => spans.map((span) => (span as HTMLElement).title));
    for (const title of titles) for (const adapter of state.adapters) expect(title).toContain(adapter);
    await page.waitForFunction(() => document.querySelectorAll('#chart polygon').length === 4);
    expect(await page.locator('#chart polygon').evaluateAll((bands) => bands.map((band) => (band as SVGElement).dataset['adapter']))).toEqual(state.adapters);
    await page.screenshot({ path: join(RESULTS_DIR, 'screenshot.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 120_000);

  it('keeps the main thread responsive while tokens stream', async () => {
    const run = (await page.evaluate(() => window.loraTle.runs)).reduce((longest, candidate) => (candidate.tokenIds.length > longest.tokenIds.length ? candidate : longest));
    expect(run.tokenIds.length).toBeGreaterThanOrEqual(8);
    const ticks = run.heartbeatAtTokens;
    // the 10 ms heartbeat timer ran between the first and the last streamed token
    expect((ticks.at(-1) as number) - (ticks[0] as number)).toBeGreaterThan(0);
    // and tokens arrived spread over several heartbeat ticks, not in one burst at the end
    expect(new Set(ticks).size).toBeGreaterThan(1);
  });

  it('applies the other routing modes and seeded sampling like the Node engine', async () => {
    const state = await page.evaluate(() => window.loraTle);
    const math = state.samples[0]!.prompt;
    const cases = [
      { mode: 'base', check: (rows: number[][]) => rows.every((row) => row.every((weight) => weight === 0)) },
      { mode: 'adapter:code', check: (rows: number[][]) => rows.every((row) => row.join() === '0,0,1,0') },
      { mode: 'uniform', check: (rows: number[][]) => rows.every((row) => row.every((weight) => Math.abs(weight - 0.25) < 1e-7)) },
      { mode: 'prompt', check: (rows: number[][]) => rows.every((row) => row.join() === rows[0]!.join()) },
      { mode: 'every:2', check: (rows: number[][]) => rows.every((row, step) => step % 2 === 0 || row.join() === rows[step - 1]!.join()) },
    ];
    for (const { mode, check } of cases) {
      const browserRun = await generateOnPage(page, 0, mode);
      expect(browserRun.mode).toBe(mode);
      expect(check(browserRun.weights), `${mode}: mixtures ${JSON.stringify(browserRun.weights.slice(0, 3))}`).toBe(true);
      expectSameRun(browserRun, await generateInNode(runtime, math, mode), mode);
      const colours = await page.locator('#output .token').evaluateAll((spans) => spans.map((span) => (span as HTMLElement).dataset['adapter']));
      if (mode === 'base') expect(new Set(colours)).toEqual(new Set(['base'])); // grey: no adapter
      if (mode === 'adapter:code') expect(new Set(colours)).toEqual(new Set(['code']));
    }
    const sampling = { temperature: 0.8, seed: 7 };
    const sampled = await generateOnPage(page, 0, 'token', sampling);
    expectSameRun(sampled, await generateInNode(runtime, math, 'token', sampling), 'token, temperature 0.8, seed 7');
    // a routing window: the router sees the last 8 tokens only, so its mixtures are not the whole text's
    const greedy = { temperature: 0, seed: 0 };
    const windowed = await generateOnPage(page, 0, 'token', greedy, 8);
    expect(windowed.routingWindow).toBe(8);
    expectSameRun(windowed, await generateInNode(runtime, math, 'token', greedy, 8), 'token, window 8');
    const whole = await generateInNode(runtime, math, 'token', greedy);
    expect(windowed.weights[0]!.join(), 'window 8 changes the first mixture').not.toBe(whole.weights[0]!.join());
  }, 90_000);

  it('measures browser wasm tokens/s next to Node CPU tokens/s on the same prompt and settings', async () => {
    const state = await page.evaluate(() => window.loraTle);
    // the sample with the longest answer: the most tokens per measurement
    const sampleIndex = nodeRuns.reduce((best, run, index) => (run.tokenIds.length > nodeRuns[best]!.tokenIds.length ? index : best), 0);
    const sample = state.samples[sampleIndex]!;
    const browserRounds: { tokensPerSecond: number; modelMsPerToken: number }[] = [];
    const nodeRounds: { tokensPerSecond: number; modelMsPerToken: number }[] = [];
    let tokens = 0;
    for (let round = 0; round < SPEED_ROUNDS; round++) {
      // alternate, so that machine load drifts hit both sides alike (both are warm: see the test above)
      const browserRun = await generateOnPage(page, sampleIndex, 'token');
      const done = browserRun.done!;
      browserRounds.push({ tokensPerSecond: done.tokensPerSecond, modelMsPerToken: done.modelMs / Math.max(1, done.tokenIds.length) });
      const nodeRun = await generateInNode(runtime, sample.prompt);
      nodeRounds.push({ tokensPerSecond: nodeRun.tokensPerSecond, modelMsPerToken: nodeRun.modelMs / Math.max(1, nodeRun.tokenIds.length) });
      expect(done.tokenIds).toEqual(nodeRun.tokenIds);
      tokens = nodeRun.tokenIds.length;
    }
    const summary = (rounds: typeof browserRounds) => ({
      tokensPerSecond: median(rounds.map((round) => round.tokensPerSecond)),
      modelMsPerToken: median(rounds.map((round) => round.modelMsPerToken)),
      rounds,
    });
    const browserWasm = { ...summary(browserRounds), threads: await page.evaluate(() => (globalThis.crossOriginIsolated ? navigator.hardwareConcurrency : 1)) };
    const nodeCpu = { ...summary(nodeRounds), threads: Math.min(8, availableParallelism()) };
    const speed = {
      fixture: assets.index.fixture,
      prompt: sample.task,
      mode: 'token (routing every token, hashing embedder, KV reuse)',
      sampling: 'greedy',
      maxNewTokens: MAX_NEW_TOKENS,
      generatedTokens: tokens,
      browserWasm,
      nodeCpu,
      // tokens/s counts everything per request (prefill, routing, sampling); model ms is the backend alone
      browserOverNodeTokensPerSecond: browserWasm.tokensPerSecond / nodeCpu.tokensPerSecond,
      browserOverNodeModelMs: browserWasm.modelMsPerToken / nodeCpu.modelMsPerToken,
    };
    writeFileSync(join(RESULTS_DIR, 'speed.json'), `${JSON.stringify(speed, null, 2)}\n`);
    console.log(
      `[apps/web] ${speed.fixture} ${speed.prompt} prompt, token routing, ${tokens} tokens, median of ${SPEED_ROUNDS}: ` +
        `browser wasm ${browserWasm.tokensPerSecond.toFixed(1)} tokens/s (model ${browserWasm.modelMsPerToken.toFixed(2)} ms/token, ${browserWasm.threads} thread), ` +
        `node cpu ${nodeCpu.tokensPerSecond.toFixed(1)} tokens/s (model ${nodeCpu.modelMsPerToken.toFixed(2)} ms/token, ${nodeCpu.threads} threads); ` +
        `browser/node tokens/s ${speed.browserOverNodeTokensPerSecond.toFixed(2)}`,
    );
    expect(browserWasm.tokensPerSecond).toBeGreaterThan(0);
    expect(nodeCpu.tokensPerSecond).toBeGreaterThan(0);
  }, 120_000);

  it('runs on the simd backend (?device=simd) with the same greedy tokens and mixtures as Node, and measures it next to wasm', async () => {
    const simdPage = await context.newPage(); // same context: the pack comes from the Cache API
    const simdErrors: string[] = [];
    simdPage.on('pageerror', (error) => simdErrors.push(error.message));
    try {
      await simdPage.goto(`${server.url}index.html?device=simd`);
      const state = await waitReady(simdPage);
      expect(state.device).toBe('cpu (WebAssembly SIMD)');
      for (const [index, sample] of state.samples.entries()) expectSameRun(await generateOnPage(simdPage, index, 'token'), nodeRuns[index]!, `simd ${sample.task}`);
      // speed: the sample with the longest answer, simd and onnxruntime-web's wasm pages alternating
      const sampleIndex = nodeRuns.reduce((best, run, index) => (run.tokenIds.length > nodeRuns[best]!.tokenIds.length ? index : best), 0);
      const rounds: { simd: number; wasm: number }[] = [];
      for (let round = 0; round < SPEED_ROUNDS; round++) {
        await simdPage.bringToFront(); // a page in the background gets throttled
        const simd = (await generateOnPage(simdPage, sampleIndex, 'token')).done!;
        await page.bringToFront();
        const wasm = (await generateOnPage(page, sampleIndex, 'token')).done!;
        expect(simd.tokenIds).toEqual(wasm.tokenIds);
        rounds.push({ simd: simd.tokensPerSecond, wasm: wasm.tokensPerSecond });
      }
      const simdTokensPerSecond = median(rounds.map((round) => round.simd));
      const wasmTokensPerSecond = median(rounds.map((round) => round.wasm));
      const speed = { prompt: state.samples[sampleIndex]!.task, mode: 'token', maxNewTokens: MAX_NEW_TOKENS, simdTokensPerSecond, wasmTokensPerSecond, simdOverWasm: simdTokensPerSecond / wasmTokensPerSecond, rounds };
      writeFileSync(join(RESULTS_DIR, 'speed-simd.json'), `${JSON.stringify(speed, null, 2)}\n`);
      console.log(
        `[apps/web] ${speed.prompt} prompt, token routing, median of ${SPEED_ROUNDS}: browser simd ${simdTokensPerSecond.toFixed(1)} tokens/s, ` +
          `browser wasm (onnxruntime-web) ${wasmTokensPerSecond.toFixed(1)} tokens/s; simd/wasm ${speed.simdOverWasm.toFixed(2)}`,
      );
      expect(simdErrors).toEqual([]);
    } finally {
      await simdPage.close();
      await page.bringToFront();
    }
  }, 180_000);

  it('reloads from the Cache API: no request for the model, weights, tokenizer or profiles', async () => {
    const before = server.requests.length;
    await page.reload();
    const state = await waitReady(page);
    const requested = server.requests.slice(before);
    expect(requested.filter((path) => path.startsWith('/tiny-tle/') && !/\/(pack\.json|assets\.json)$/.test(path))).toEqual([]);
    expect(state.filesDownloaded).toEqual([]);
    expect(state.filesFromCache).toEqual(expect.arrayContaining(['model.onnx', 'base.weights', 'adapters.weights', 'pack/tokenizer.json', 'store/manifest.json']));
    const run = await generateOnPage(page, 1, 'token');
    expect(run.done?.tokenIds).toEqual(nodeRuns[1]!.tokenIds);
  }, 90_000);

  it('runs on webgpu (SwiftShader) with the same greedy tokens as Node', async () => {
    const gpuContext = await launch(join(temp, 'profile-webgpu'), [...CHROMIUM_FLAGS.filter((flag) => flag !== '--disable-gpu'), ...WEBGPU_FLAGS]);
    try {
      const { page: gpuPage, errors: gpuErrors } = await openPage(gpuContext, `${server.url}index.html?device=webgpu`);
      expect(await gpuPage.evaluate(() => window.loraTle.device)).toBe('webgpu');
      const run = await generateOnPage(gpuPage, 0, 'token');
      expect(run.done?.tokenIds).toEqual(nodeRuns[0]!.tokenIds);
      expect(gpuErrors).toEqual([]);
    } finally {
      await gpuContext.close();
    }
  }, 120_000);

  it('starts offline once loaded: the page shell from the service worker, the model from the Cache API', async () => {
    // the service worker controls the page once it has installed, i.e. cached the shell files
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    await server.close(); // the network is gone
    await page.reload();
    const state = await waitReady(page);
    expect(state.filesDownloaded).toEqual([]);
    const run = await generateOnPage(page, 2, 'token');
    expect(run.done?.tokenIds).toEqual(nodeRuns[2]!.tokenIds);
    expect(errors).toEqual([]);
  }, 90_000);
});
