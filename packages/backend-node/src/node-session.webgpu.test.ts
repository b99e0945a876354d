// The WebGPU workaround in NodeSession, checked on the CPU so it runs everywhere: a step longer
// than maxTokensPerRun (31 on webgpu, where GroupQueryAttention miscomputes 32+ query tokens) runs
// as several session runs over one cache, and must give what one run gives: logits ('all' and
// 'last'), the pooled hidden state over real tokens, and a cache that decodes the same. Batch 1
// runs in chunks; a padded batch runs its first chunk, then one token per run.

import { afterAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import type { MixCoefficients, StepInput, StepOutput } from '@lora-tle/spec';
import type { InferenceSession } from 'onnxruntime-node';
import { createOrtSession, EXECUTION_PROVIDERS, WEBGPU_MAX_TOKENS_PER_RUN } from './execution-providers.js';
import { NodeSession } from './node-session.js';
import { readPack } from '@lora-tle/backend-core/node';
import { buildPack, maxAbsDifference, mix, tempDirs } from './test-support.js';

const dirs = tempDirs('chunks');
afterAll(() => dirs.cleanup());
const TOLERANCE = 1e-5;

let packs = 0;
async function sessions(chunk: number) {
  const model = createRandomLlama({ numKvHeads: 1, tieWordEmbeddings: true }, 31);
  const adapters = [
    createRandomAdapter(model.architecture, { name: 'qv', rank: 4, targets: ['q_proj', 'v_proj', 'down_proj'] }, 32),
    createRandomAdapter(model.architecture, { name: 'kv', rank: 2, targets: ['k_proj', 'v_proj', 'up_proj'] }, 33),
  ];
  const { manifest, modelPath } = readPack(await buildPack(dirs, `pack-${packs++}`, model, adapters));
  const open = async () => (await createOrtSession(modelPath, { device: 'cpu', threads: 1 })).session;
  const runs = { count: 0 };
  const chunkedOrt = await open();
  // counts session runs; NodeSession calls only run and release
  const counting = { run: (...args: Parameters<InferenceSession['run']>) => (runs.count++, chunkedOrt.run(...args)), release: () => chunkedOrt.release() } as unknown as InferenceSession;
  return {
    whole: new NodeSession(manifest, 'cpu', await open()),
    chunked: new NodeSession(manifest, 'cpu', counting, 'cpu', chunk),
    runs,
    V: manifest.architecture.vocabSize,
  };
}

/** The same step on both sessions, each with its own cache. */
async function both(pair: { whole: NodeSession; chunked: NodeSession }, input: Omit<StepInput, 'cache'>, caches: [StepOutput | null, StepOutput | null]): Promise<[StepOutput, StepOutput]> {
  return [await pair.whole.doStep({ ...input, cache: caches[0]?.cache ?? null }), await pair.chunked.doStep({ ...input, cache: caches[1]?.cache ?? null })];
}

describe('NodeSession in chunks (maxTokensPerRun)', () => {
  it('webgpu takes 31 tokens per run, the other devices any number', () => {
    expect(EXECUTION_PROVIDERS.webgpu.maxTokensPerRun).toBe(WEBGPU_MAX_TOKENS_PER_RUN);
    expect(WEBGPU_MAX_TOKENS_PER_RUN).toBe(31);
    expect(EXECUTION_PROVIDERS.cpu.maxTokensPerRun).toBe(Number.POSITIVE_INFINITY);
  });

  it('batch 1: a 10-token prefill in runs of 3, then a 7-token step on the cache, then decode — as one run each', async () => {
    const pair = await sessions(3);
    const coefficients: MixCoefficients[] = [mix([0.6, -0.3], 'cat')];
    const prompt = Int32Array.from({ length: 10 }, (_, t) => (t * 5 + 3) % 37);
    let [whole, chunked] = await both(pair, { inputIds: prompt, batchSize: 1, sequenceLength: 10, mix: coefficients, logits: 'all', hidden: true }, [null, null]);
    expect(pair.runs.count).toBe(4); // 3 + 3 + 3 + 1
    expect(chunked.logits).toHaveLength(10 * pair.V);
    expect(chunked.logitsPositions).toBe(10);
    expect(chunked.cache.length).toBe(10);
    expect(maxAbsDifference(chunked.logits, whole.logits)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDifference(chunked.hidden!, whole.hidden!)).toBeLessThanOrEqual(TOLERANCE);

    const more = Int32Array.of(4, 8, 15, 16, 23, 1, 2);
    [whole, chunked] = await both(pair, { inputIds: more, batchSize: 1, sequenceLength: 7, mix: coefficients, hidden: true }, [whole, chunked]);
    expect(pair.runs.count).toBe(4 + 3);
    expect(chunked.logitsPositions).toBe(1);
    expect(maxAbsDifference(chunked.logits, whole.logits)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDifference(chunked.hidden!, whole.hidden!)).toBeLessThanOrEqual(TOLERANCE);
    [whole, chunked] = await both(pair, { inputIds: Int32Array.of(9), batchSize: 1, sequenceLength: 1, mix: coefficients }, [whole, chunked]);
    expect(chunked.cache.length).toBe(18);
    expect(maxAbsDifference(chunked.logits, whole.logits)).toBeLessThanOrEqual(TOLERANCE);
    await pair.whole.dispose();
    await pair.chunked.dispose();
  });

  it('a left-padded batch with a mixture per row: first chunk, then one token per run; then decode', async () => {
    const pair = await sessions(3);
    const lengths = [9, 5, 7];
    const B = 3;
    const T = 9;
    const inputIds = Int32Array.from({ length: B * T }, (_, i) => (i * 11 + 2) % 37);
    const attentionMask = Uint8Array.from({ length: B * T }, (_, i) => (i % T >= T - (lengths[Math.floor(i / T)] as number) ? 1 : 0));
    const positionIds = Int32Array.from({ length: B * T }, (_, i) => Math.max(0, (i % T) - (T - (lengths[Math.floor(i / T)] as number))));
    const coefficients = [mix([1, 0], 'cat'), mix([0, 1], 'cat'), mix([0.5, 0.5], 'cat')];
    let [whole, chunked] = await both(pair, { inputIds, batchSize: B, sequenceLength: T, attentionMask, positionIds, mix: coefficients, logits: 'all', hidden: true }, [null, null]);
    expect(pair.runs.count).toBe(1 + 6);
    for (let row = 0; row < B; row++) {
      const real = (logits: Float32Array) => logits.subarray((row * T + T - (lengths[row] as number)) * pair.V, (row + 1) * T * pair.V);
      expect(maxAbsDifference(real(chunked.logits), real(whole.logits))).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(maxAbsDifference(chunked.hidden!, whole.hidden!)).toBeLessThanOrEqual(TOLERANCE);
    const grownMask = new Uint8Array(B * (T + 1));
    for (let row = 0; row < B; row++) grownMask.set([...attentionMask.subarray(row * T, (row + 1) * T), 1], row * (T + 1));
    [whole, chunked] = await both(pair, { inputIds: Int32Array.of(5, 6, 7), batchSize: B, sequenceLength: 1, attentionMask: grownMask, positionIds: Int32Array.from(lengths), mix: coefficients }, [whole, chunked]);
    expect(maxAbsDifference(chunked.logits, whole.logits)).toBeLessThanOrEqual(TOLERANCE);
    await pair.whole.dispose();
    await pair.chunked.dispose();
  });
});
