// The CPU session's own KV arrays (backend-core KvBuffers, fed with spare positions, filled from
// appended_key_values) against the same pack loaded as an older one (pack.json without it, so the
// whole present.* is fetched and fed back): the same logits step after step while the arrays
// grow 64 → 128 → 256 positions, for a left-padded batch, a multi-token step on a cache, and both
// rotary layouts (RoPE nodes at head_dim 8, inside GroupQueryAttention at 16); and a pack built
// without appended_key_values at all.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama, writeModelPack } from '@lora-tle/graph';
import { isLoraTleError, type BackendSession, type PackManifest, type StepInput, type StepOutput } from '@lora-tle/spec';
import { createNodeBackend } from './index.js';
import type { NodeKvCache } from './node-kv-cache.js';
import { buildPack, maxAbsDifference, mix, tempDirs } from './test-support.js';

const dirs = tempDirs('kv-buffers');
const backend = createNodeBackend({ threads: 1 });
const sessions: BackendSession[] = [];
afterAll(async () => {
  for (const session of sessions) await session.dispose();
  dirs.cleanup();
});

/** The pack as built (appended_key_values in pack.json) and a copy whose pack.json predates it. */
async function loadBoth(name: string, headDim: number, numLayers = 2): Promise<{ buffered: BackendSession; present: BackendSession }> {
  const model = createRandomLlama({ headDim, numKvHeads: 1, maxPositionEmbeddings: 300, numLayers }, 7);
  const adapters = [
    createRandomAdapter(model.architecture, { name: 'a', rank: 4, targets: ['q_proj', 'k_proj', 'v_proj', 'down_proj'] }, 8),
    createRandomAdapter(model.architecture, { name: 'b', rank: 2, targets: ['v_proj', 'o_proj', 'up_proj'] }, 9),
  ];
  const packDir = await buildPack(dirs, name, model, adapters);
  const olderDir = dirs.make(`${name}-older`);
  cpSync(packDir, olderDir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(olderDir, 'pack.json'), 'utf8')) as PackManifest;
  delete manifest.io.appended;
  writeFileSync(join(olderDir, 'pack.json'), JSON.stringify(manifest));
  const buffered = await backend.doLoad(packDir);
  const present = await backend.doLoad(olderDir);
  sessions.push(buffered, present);
  return { buffered, present };
}

const weights = [mix([0.6, 0.4], 'cat'), mix([0.1, 0.9], 'cat')];

/** Runs the same steps on both sessions; returns the largest logit difference and the last outputs. */
async function runBoth(pair: { buffered: BackendSession; present: BackendSession }, steps: Omit<StepInput, 'cache'>[]) {
  let buffered: StepOutput | null = null;
  let present: StepOutput | null = null;
  let worst = 0;
  for (const step of steps) {
    buffered = await pair.buffered.doStep({ ...step, cache: buffered?.cache ?? null });
    present = await pair.present.doStep({ ...step, cache: present?.cache ?? null });
    worst = Math.max(worst, maxAbsDifference(buffered.logits, present.logits));
  }
  return { worst, buffered: buffered!, present: present! };
}

describe.each([
  ['RoPE nodes (head_dim 8)', 8],
  ['RoPE inside GroupQueryAttention (head_dim 16)', 16],
])('KV cache in the session’s own arrays — %s', (_label, headDim) => {
  it('matches the present.* cache over 150 decode steps of a left-padded batch while the arrays grow to 256 positions', async () => {
    const both = await loadBoth(`batch-${headDim}`, headDim);
    // two rows: a 9-token prompt and a 5-token one left-padded with pad id 3
    const prompt = Int32Array.of(5, 9, 11, 2, 30, 7, 19, 4, 8, 3, 3, 3, 3, 12, 6, 21, 14, 10);
    const promptMask = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1);
    const steps: Omit<StepInput, 'cache'>[] = [{ inputIds: prompt, batchSize: 2, sequenceLength: 9, attentionMask: promptMask, mix: weights }];
    let mask = promptMask;
    for (let step = 0; step < 150; step++) {
      const next = new Uint8Array(2 * (9 + step + 1));
      next.set(mask.subarray(0, 9 + step), 0);
      next[9 + step] = 1;
      next.set(mask.subarray(9 + step), 9 + step + 1);
      next[next.length - 1] = 1;
      mask = next;
      steps.push({ inputIds: Int32Array.of(4 + (step % 30), 6 + (step % 25)), batchSize: 2, sequenceLength: 1, attentionMask: mask, mix: weights });
    }
    const { worst, buffered, present } = await runBoth(both, steps);
    expect(worst).toBeLessThan(1e-5);
    expect(buffered.cache.length).toBe(159);
    expect((buffered.cache as NodeKvCache).ownBuffers()?.capacity).toBe(256);
    expect((present.cache as NodeKvCache).ownBuffers()).toBeNull();
  });

  it('matches it with 9 layers, whose 18 appended row blocks the graph concatenates in a tree of Concats', async () => {
    const both = await loadBoth(`deep-${headDim}`, headDim, 9); // Concat(7) ×2 + Concat(4), then Concat(3)
    const steps: Omit<StepInput, 'cache'>[] = [{ inputIds: Int32Array.of(5, 9, 11, 2, 30, 7, 19, 4, 8, 3, 12, 6), batchSize: 2, sequenceLength: 6, mix: weights }];
    for (let step = 0; step < 30; step++) steps.push({ inputIds: Int32Array.of(4 + (step % 30), 6 + (step % 25)), batchSize: 2, sequenceLength: 1, mix: weights });
    const { worst, buffered } = await runBoth(both, steps);
    expect(worst).toBeLessThan(1e-5);
    expect(buffered.cache.length).toBe(36);
  });

  it('matches it when a multi-token step outgrows the arrays, and refuses the consumed cache', async () => {
    const both = await loadBoth(`chunk-${headDim}`, headDim);
    const ids = (count: number, from: number) => Int32Array.from({ length: count }, (_, index) => 4 + ((from + index) % 30));
    const steps: Omit<StepInput, 'cache'>[] = [
      { inputIds: ids(10, 0), batchSize: 1, sequenceLength: 10, mix: [weights[0]!], logits: 'all' },
      { inputIds: ids(70, 10), batchSize: 1, sequenceLength: 70, mix: [weights[1]!], logits: 'all' }, // 80 > 64 positions
      { inputIds: ids(1, 80), batchSize: 1, sequenceLength: 1, mix: [weights[0]!] },
    ];
    const { worst, buffered } = await runBoth(both, steps);
    expect(worst).toBeLessThan(1e-5);
    expect((buffered.cache as NodeKvCache).ownBuffers()?.capacity).toBe(128);

    const first = await both.buffered.doStep({ ...steps[0]!, cache: null });
    await both.buffered.doStep({ ...steps[1]!, cache: first.cache });
    const error = await both.buffered.doStep({ ...steps[1]!, cache: first.cache }).catch((caught: unknown) => caught);
    expect(isLoraTleError(error) && error.code).toBe('E_BACKEND_DISPOSED');
  });
});

describe('a pack built without appended_key_values (writeModelPack withAppended: false)', () => {
  it('has no such outputs, names none in pack.json, and runs on present.* with the same logits', async () => {
    const model = createRandomLlama({ headDim: 16, numKvHeads: 1, maxPositionEmbeddings: 300 }, 7);
    const adapters = [createRandomAdapter(model.architecture, { name: 'a', rank: 4, targets: ['q_proj', 'v_proj'] }, 8)];
    const withDir = await buildPack(dirs, 'with-appended', model, adapters);
    const withoutDir = dirs.make('without-appended');
    await writeModelPack({ source: model, adapters, destination: withoutDir, withAppended: false });
    const manifest = JSON.parse(readFileSync(join(withoutDir, 'pack.json'), 'utf8')) as PackManifest;
    expect(manifest.io.appended).toBeNull();
    const pair = { buffered: await backend.doLoad(withDir), present: await backend.doLoad(withoutDir) };
    sessions.push(pair.buffered, pair.present);
    const steps: Omit<StepInput, 'cache'>[] = [{ inputIds: Int32Array.of(5, 9, 11, 2), batchSize: 1, sequenceLength: 4, mix: [mix([0.7], 'cat')] }];
    for (let step = 0; step < 70; step++) steps.push({ inputIds: Int32Array.of(4 + (step % 30)), batchSize: 1, sequenceLength: 1, mix: [mix([0.7], 'cat')] });
    const { worst, present } = await runBoth(pair, steps);
    expect(worst).toBeLessThan(1e-5);
    expect((present.cache as NodeKvCache).ownBuffers()).toBeNull();
  });
});
