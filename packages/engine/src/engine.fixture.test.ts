// The engine on the real tiny-tle fixture against its transformers + PEFT reference
// (fixtures/tiny-tle/reference/index.json, made by tools/fixtures/stage_reference.py): the pack is
// built from the fixture checkpoint and adapters by @lora-tle/graph and run by backend-node.
// Reference runs generate exactly `steps` tokens without stopping at EOS; the engine stops at EOS,
// so the two are compared up to the reference's first EOS. Skipped (with a message) until the
// fixture has its checkpoint and reference.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeBackend } from '@lora-tle/backend-node';
import { buildModelPack } from '@lora-tle/graph';
import type { BackendSession } from '@lora-tle/spec';
import { loadTokenizerFromDir } from '@lora-tle/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, generateText, type Engine } from './engine.js';
import type { ContextRouter } from './routing-mode.js';
import { engineTokenizerFrom } from './seams.js';
import type { EngineTokenizer } from './decode-loop.js';

// LORA_TLE_FIXTURE_DIR points at another copy of the fixture (e.g. a committed one while it is regenerated)
const fixtureDir = process.env['LORA_TLE_FIXTURE_DIR'] ?? fileURLToPath(new URL('../../../fixtures/tiny-tle/', import.meta.url));
const indexFile = join(fixtureDir, 'reference', 'index.json');
const USED_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'reference/index.json'].concat(
  ['math', 'science', 'code', 'reading'].flatMap((task) => [`adapters/${task}/adapter_config.json`, `adapters/${task}/adapter_model.safetensors`]),
);

/** Why the fixture cannot be used (missing, or files not matching hashes.json: being regenerated), or null. */
function fixtureProblem(): string | null {
  const missing = ['hashes.json', ...USED_FILES].filter((file) => !existsSync(join(fixtureDir, file)));
  if (missing.length > 0) return `missing ${missing.join(', ')} (run tools/fixtures/make_tiny_tle.py)`;
  const hashes = JSON.parse(readFileSync(join(fixtureDir, 'hashes.json'), 'utf8')) as Record<string, string>;
  const changed = USED_FILES.filter((file) => createHash('sha256').update(readFileSync(join(fixtureDir, file))).digest('hex') !== hashes[file]);
  return changed.length > 0 ? `${changed.join(', ')} do not match hashes.json (the fixture is being regenerated?)` : null;
}

const problem = fixtureProblem();
const ready = problem === null;
if (!ready) console.warn(`engine.fixture.test: skipped — ${fixtureDir}: ${problem}`);

interface ReferenceRun {
  name: string;
  mode: 'base' | 'adapter' | 'mixture' | 'token';
  adapter: string | null;
  combination: 'cat' | 'linear' | null;
  weights: number[] | string;
  weights_per_step: number[][] | null;
  generated_ids: number[][];
  eos_step: number[];
  min_top2_margin: number;
}
interface ReferenceIndex {
  adapter_order: string[];
  steps: number;
  eos_token_id: number;
  prompts: { task: string; id: string; text: string; prompt_ids: number[] }[];
  runs: ReferenceRun[];
}

const reference: ReferenceIndex | null = ready ? (JSON.parse(readFileSync(indexFile, 'utf8')) as ReferenceIndex) : null;
const root = mkdtempSync(join(tmpdir(), 'lora-tle-engine-fixture-'));
let session: BackendSession;
let tokenizer: EngineTokenizer;
let engine: Engine;

/** A router that returns given weights per step (the reference's recorded mixtures). */
function scheduleRouter(weightsAt: (step: number) => number[]): ContextRouter {
  const adapters = reference!.adapter_order;
  return { adapters, route: async ({ step }) => ({ adapters, weights: Float32Array.from(weightsAt(step)) }) };
}

function expectedIds(run: ReferenceRun, prompt: number): number[] {
  const ids = run.generated_ids[prompt]!;
  const eos = run.eos_step[prompt]!;
  return eos === -1 ? ids : ids.slice(0, eos);
}

const runNamed = (name: string) => reference!.runs.find((run) => run.name === name)!;

describe.skipIf(!ready)('engine on tiny-tle vs transformers + PEFT', () => {
  beforeAll(async () => {
    const packDir = join(root, 'pack');
    await buildModelPack({
      checkpointDir: fixtureDir,
      adapters: reference!.adapter_order.map((name) => ({ name, dir: join(fixtureDir, 'adapters', name) })),
      destination: packDir,
      combination: 'cat',
    });
    session = await createNodeBackend().doLoad(packDir);
    tokenizer = engineTokenizerFrom(await loadTokenizerFromDir(fixtureDir));
    engine = createEngine({ session, tokenizer });
  }, 300_000);

  afterAll(async () => {
    await session?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('tokenizes the reference prompts to the reference prompt ids', () => {
    for (const prompt of reference!.prompts) expect(Array.from(tokenizer.encode(prompt.text))).toEqual(prompt.prompt_ids);
  });

  it('greedy base and adapter:<name> output equals the reference token ids', async () => {
    const runs = reference!.runs.filter((run) => run.mode === 'base' || run.mode === 'adapter');
    expect(runs.length).toBe(1 + reference!.adapter_order.length);
    for (const run of runs) {
      const mode = run.mode === 'base' ? 'base' : `adapter:${run.adapter}`;
      for (const [p, prompt] of reference!.prompts.entries()) {
        const done = await generateText(engine, { prompt: prompt.text, mode, maxNewTokens: reference!.steps });
        expect(done.tokenIds, `${run.name} / ${prompt.id}`).toEqual(expectedIds(run, p));
        expect(done.finishReason).toBe(run.eos_step[p] === -1 ? 'length' : 'eos');
      }
    }
  });

  it('cat mixtures (uniform, skewed) with KV reuse equal the reference', async () => {
    for (const name of ['cat-uniform', 'cat-skewed']) {
      const run = runNamed(name);
      const mixed = createEngine({ session, tokenizer, router: scheduleRouter(() => run.weights as number[]) });
      for (const [p, prompt] of reference!.prompts.entries()) {
        const done = await generateText(mixed, { prompt: prompt.text, mode: 'token', maxNewTokens: reference!.steps });
        expect(done.tokenIds, `${name} / ${prompt.id}`).toEqual(expectedIds(run, p));
      }
    }
  });

  it('--kv recompute with the recorded per-token mixtures equals the reference recompute loop', async () => {
    const run = runNamed('token-cat-recompute');
    const schedule = run.weights_per_step!;
    const routed = createEngine({ session, tokenizer, router: scheduleRouter((step) => schedule[step]!) });
    for (const [p, prompt] of reference!.prompts.entries()) {
      const events = [];
      for await (const event of routed.generate({ prompt: prompt.text, mode: 'token', maxNewTokens: reference!.steps, kv: 'recompute' })) events.push(event);
      const tokens = events.filter((event) => event.type === 'token');
      expect(tokens.map((event) => event.tokenId), prompt.id).toEqual(expectedIds(run, p));
      tokens.forEach((event, step) => expect([...event.mix.weights]).toEqual(schedule[step]!.map(Math.fround)));
    }
  });

  it('reuse with a constant mixture equals recompute; same seed gives the same text', async () => {
    const mixed = createEngine({ session, tokenizer, router: scheduleRouter(() => [0.55, 0.25, 0.15, 0.05]) });
    for (const prompt of reference!.prompts.slice(0, 4)) {
      const request = { prompt: prompt.text, mode: 'token', maxNewTokens: reference!.steps };
      const reuse = await generateText(mixed, { ...request, kv: 'reuse' });
      const recompute = await generateText(mixed, { ...request, kv: 'recompute' });
      expect(reuse.tokenIds).toEqual(recompute.tokenIds);
    }
    const prompt = reference!.prompts[0]!.text;
    const sampled = (seed: number) => generateText(engine, { prompt, mode: 'adapter:math', maxNewTokens: 24, sampling: { temperature: 0.9, topP: 0.95, seed } });
    const [first, again] = [await sampled(42), await sampled(42)];
    expect(again.text).toBe(first.text);
    expect(again.tokenIds).toEqual(first.tokenIds);
  });
});
