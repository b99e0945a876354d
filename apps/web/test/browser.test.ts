// The page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): builds
// the page with Vite, serves it and a tiny pack from 127.0.0.1, and checks that onnxruntime-web
// runs the pack in the browser (wasm; the GPU is disabled) with the same logits and greedy tokens
// as onnxruntime-web in Node, that a reload takes the pack files from the Cache API, and that the
// webgpu provider (SwiftShader Vulkan, KV cache in GPU buffers) gives the same tokens.
// Skipped when chromium is not installed (tools/ci/install-system-deps.sh installs it).

import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebBackend } from '@lora-tle/backend-web';
import { mixCoefficients } from '@lora-tle/mixing';
import type { KvCache } from '@lora-tle/spec';
import { serveDirectory, type StaticServer, tempRoot, writeConformancePacks } from '../../../packages/backend-web/src/test-support.js';
import type { PageResult } from '../src/main.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// WebGPU without a GPU: Chromium's bundled SwiftShader Vulkan (software; correctness only).
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'];
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(CHROMIUM)) console.warn(`[apps/web browser test] skipped: ${CHROMIUM} is missing; run tools/ci/install-system-deps.sh`);

describe.skipIf(!existsSync(CHROMIUM))('the page in headless Chromium', () => {
  const temp = tempRoot('web-app');
  let server: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    const site = join(temp.root, 'site');
    await build({ configFile: join(APP_DIR, 'vite.config.ts'), logLevel: 'warn', build: { outDir: site, emptyOutDir: true } });
    const packs = await writeConformancePacks(join(temp.root, 'packs'));
    mkdirSync(join(site, 'pack'));
    cpSync(packs.mixed, join(site, 'pack'), { recursive: true });
    server = await serveDirectory(site);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    temp.cleanup();
  });

  it('runs the pack on wasm like onnxruntime-web in Node, and a reload reads the pack from the Cache API', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const query = '?weights=0.3,0.7&prompt=1,5,9,13&steps=4';
    await page.goto(`${server.url}index.html${query}`);
    await page.waitForFunction(() => window.loraTle !== undefined, undefined, { timeout: 120_000 });
    const result = (await page.evaluate(() => window.loraTle)) as PageResult;
    expect(errors).toEqual([]);
    expect(result.error).toBeUndefined();
    expect(result.device).toBe('wasm');
    expect(result.adapters).toEqual(['qv', 'mlp']);
    expect(result.loadPhases).toContain('download model.onnx');

    // The same pack, weights and prompt through onnxruntime-web in Node.
    const session = await createWebBackend({ device: 'wasm', cache: null, wasmThreads: 1 }).doLoad(`${server.url}pack/`);
    const mix = [mixCoefficients([0.3, 0.7], session.pack.combination)];
    let output = await session.doStep({ inputIds: Int32Array.of(1, 5, 9, 13), batchSize: 1, sequenceLength: 4, mix, cache: null });
    const firstLogits = Array.from(output.logits);
    const tokens: number[] = [];
    let cache: KvCache = output.cache;
    for (let step = 0; step < 4; step++) {
      let best = 0;
      output.logits.forEach((value, index) => {
        if (value > (output.logits[best] as number)) best = index;
      });
      tokens.push(best);
      output = await session.doStep({ inputIds: Int32Array.of(best), batchSize: 1, sequenceLength: 1, mix, cache });
      cache = output.cache;
    }
    cache.dispose();
    await session.dispose();
    expect(result.firstLogits).toHaveLength(firstLogits.length);
    expect(Math.max(...result.firstLogits.map((value, index) => Math.abs(value - (firstLogits[index] as number))))).toBeLessThan(1e-4);
    expect(result.tokens).toEqual(tokens);

    const before = server.requests.length;
    await page.evaluate(() => {
      delete window.loraTle;
    });
    await page.reload();
    await page.waitForFunction(() => window.loraTle !== undefined, undefined, { timeout: 120_000 });
    const reloaded = (await page.evaluate(() => window.loraTle)) as PageResult;
    expect(reloaded.tokens).toEqual(tokens);
    expect(reloaded.loadPhases).toContain('cached base.weights');
    expect(server.requests.slice(before).filter((path) => path.startsWith('/pack/'))).toEqual(['/pack/pack.json']);
    await page.close();
  }, 180_000);

  it('runs the pack on webgpu (SwiftShader) with the same greedy tokens and logits within 1e-3 of wasm', async () => {
    const gpuBrowser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS.filter((flag) => flag !== '--disable-gpu'), ...WEBGPU_FLAGS] });
    try {
      const run = async (device: string): Promise<PageResult> => {
        const page = await gpuBrowser.newPage();
        await page.goto(`${server.url}index.html?device=${device}&weights=0.6,0.4&prompt=2,3,4&steps=4`);
        await page.waitForFunction(() => window.loraTle !== undefined, undefined, { timeout: 120_000 });
        const result = (await page.evaluate(() => window.loraTle)) as PageResult;
        await page.close();
        return result;
      };
      const webgpu = await run('webgpu');
      const wasm = await run('wasm');
      expect(webgpu.error).toBeUndefined();
      expect(webgpu.device).toBe('webgpu');
      expect(wasm.device).toBe('wasm');
      expect(webgpu.tokens).toEqual(wasm.tokens);
      expect(Math.max(...webgpu.firstLogits.map((value, index) => Math.abs(value - (wasm.firstLogits[index] as number))))).toBeLessThan(1e-3);
    } finally {
      await gpuBrowser.close();
    }
  }, 240_000);
});
