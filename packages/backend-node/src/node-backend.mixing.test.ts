// Mixing equivalences on the ONNX pack (STYLE.md "From PEFT"): a one-hot mixture equals that
// adapter alone, all-zero weights equal the base, permuting adapters and weights changes nothing,
// a batch of rows with different mixtures equals separate runs — and the adapters do matter.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import type { BackendSession, Combination, MixCoefficients } from '@lora-tle/spec';
import { createNodeBackend } from './index.js';
import { buildPack, maxAbsDifference, mix, tempDirs } from './test-support.js';

const dirs = tempDirs('mixing');
const backend = createNodeBackend({ threads: 1 });
const model = createRandomLlama({ numKvHeads: 1, tieWordEmbeddings: true }, 5);
const arch = model.architecture;
const adapters = [
  createRandomAdapter(arch, { name: 'math', rank: 4, targets: ['q_proj', 'v_proj', 'up_proj'] }, 31),
  createRandomAdapter(arch, { name: 'code', rank: 2, targets: ['q_proj', 'k_proj', 'o_proj', 'down_proj'] }, 32),
  createRandomAdapter(arch, { name: 'read', rank: 3, targets: ['gate_proj', 'v_proj'] }, 33),
];
const PROMPT = [5, 9, 11, 2, 30];
const DECODE = [7, 19, 4];
const combination: Combination = 'cat';

let all: BackendSession;
let reversed: BackendSession;
let base: BackendSession;
let packedRotary: BackendSession; // head_dim 16: RoPE inside GroupQueryAttention
const singles: BackendSession[] = [];

beforeAll(async () => {
  all = await backend.doLoad(await buildPack(dirs, 'all', model, adapters, combination));
  reversed = await backend.doLoad(await buildPack(dirs, 'reversed', model, [...adapters].reverse(), combination));
  base = await backend.doLoad(await buildPack(dirs, 'base', model, [], combination));
  const wideHeads = createRandomLlama({ numKvHeads: 1, headDim: 16, tieWordEmbeddings: true }, 6);
  const wideAdapters = [createRandomAdapter(wideHeads.architecture, { name: 'qkv', rank: 4, targets: ['q_proj', 'k_proj', 'v_proj'] }, 34), createRandomAdapter(wideHeads.architecture, { name: 'mlp', rank: 2, targets: ['up_proj', 'down_proj'] }, 35)];
  packedRotary = await backend.doLoad(await buildPack(dirs, 'packed-rotary', wideHeads, wideAdapters, combination));
  for (const adapter of adapters) singles.push(await backend.doLoad(await buildPack(dirs, `single-${adapter.name}`, model, [adapter], combination)));
});
afterAll(async () => {
  for (const session of [all, reversed, base, packedRotary, ...singles]) await session?.dispose();
  dirs.cleanup();
});

/** Prefill + decode of one sequence with a fixed mixture; logits of every step concatenated. */
async function run(session: BackendSession, coefficients: MixCoefficients): Promise<Float32Array[]> {
  const logits: Float32Array[] = [];
  let output = await session.doStep({ inputIds: Int32Array.from(PROMPT), batchSize: 1, sequenceLength: PROMPT.length, mix: [coefficients], cache: null, logits: 'all' });
  logits.push(output.logits);
  for (const token of DECODE) {
    output = await session.doStep({ inputIds: Int32Array.of(token), batchSize: 1, sequenceLength: 1, mix: [coefficients], cache: output.cache });
    logits.push(output.logits);
  }
  output.cache.dispose();
  return logits;
}

/** 'last' logits of prefill then of each decode step. */
async function runTokens(session: BackendSession, prompt: number[], coefficients: MixCoefficients): Promise<Float32Array[]> {
  const logits: Float32Array[] = [];
  let output = await session.doStep({ inputIds: Int32Array.from(prompt), batchSize: 1, sequenceLength: prompt.length, mix: [coefficients], cache: null });
  logits.push(output.logits);
  for (const token of DECODE) {
    output = await session.doStep({ inputIds: Int32Array.of(token), batchSize: 1, sequenceLength: 1, mix: [coefficients], cache: output.cache });
    logits.push(output.logits);
  }
  output.cache.dispose();
  return logits;
}

/** Two rows of different lengths (the short one left-padded by 2): prefill + decode against separate runs. */
async function expectLeftPaddedBatchEqualsSeparateRuns(session: BackendSession): Promise<void> {
  const N = session.pack.adapters.length;
  const rows = [mix([0.2, 0.5, 0.3].slice(0, N), combination), mix([1, 0, -0.5].slice(0, N), combination)];
  const short = PROMPT.slice(2); // 3 tokens, left-padded by 2
  const separateShort = await runTokens(session, short, rows[0]!);
  const separateLong = await runTokens(session, PROMPT, rows[1]!);
  const T = PROMPT.length;
  const V = session.pack.architecture.vocabSize;
  const pad = 2;
  let mask = Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  let output = await session.doStep({
    inputIds: Int32Array.from([0, 0, ...short, ...PROMPT]),
    positionIds: Int32Array.from([0, 0, 0, 1, 2, 0, 1, 2, 3, 4]),
    attentionMask: mask,
    batchSize: 2,
    sequenceLength: T,
    mix: rows,
    cache: null,
  });
  expect(maxAbsDifference(output.logits.subarray(0, V), separateShort[0]!)).toBeLessThanOrEqual(1e-5);
  expect(maxAbsDifference(output.logits.subarray(V), separateLong[0]!)).toBeLessThanOrEqual(1e-5);
  for (const [step, token] of DECODE.entries()) {
    mask = Uint8Array.from([...mask.subarray(0, T + step), 1, ...mask.subarray(T + step), 1]);
    const positions = Int32Array.of(short.length + step, T + step);
    output = await session.doStep({ inputIds: Int32Array.of(token, token), positionIds: positions, attentionMask: mask, batchSize: 2, sequenceLength: 1, mix: rows, cache: output.cache });
    expect(maxAbsDifference(output.logits.subarray(0, V), separateShort[step + 1]!)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDifference(output.logits.subarray(V), separateLong[step + 1]!)).toBeLessThanOrEqual(1e-5);
  }
  expect(pad + short.length).toBe(T);
}

const worst = (left: Float32Array[], right: Float32Array[]): number => Math.max(...left.map((values, step) => maxAbsDifference(values, right[step] as Float32Array)));

describe('run-time mixing on the node backend', () => {
  it('one-hot weights equal a pack with that adapter alone', async () => {
    for (let i = 0; i < adapters.length; i++) {
      const oneHot = adapters.map((_, j) => (j === i ? 1 : 0));
      expect(worst(await run(all, mix(oneHot, combination)), await run(singles[i] as BackendSession, mix([1], combination)))).toBeLessThanOrEqual(1e-5);
    }
  });

  it('all-zero weights equal the base model, and non-zero weights do not', async () => {
    const baseLogits = await run(base, mix([], combination));
    expect(worst(await run(all, mix([0, 0, 0], combination)), baseLogits)).toBeLessThanOrEqual(1e-5);
    expect(worst(await run(all, mix([0.5, 0.3, 0.2], combination)), baseLogits)).toBeGreaterThan(1e-2);
  });

  it('permuting adapters together with their weights changes nothing', async () => {
    const weights = [0.6, -0.3, 0.9];
    expect(worst(await run(all, mix(weights, combination)), await run(reversed, mix([...weights].reverse(), combination)))).toBeLessThanOrEqual(1e-5);
  });

  it('a batch of 3 rows with 3 different mixtures equals 3 separate runs', async () => {
    const rows = [[1, 0, 0], [0.2, 0.5, 0.3], [-0.4, 0, 1.1]].map((weights) => mix(weights, combination));
    const separate = await Promise.all(rows.map((coefficients) => run(all, coefficients)));
    const B = rows.length;
    const V = arch.vocabSize;
    let output = await all.doStep({ inputIds: Int32Array.from(rows.flatMap(() => PROMPT)), batchSize: B, sequenceLength: PROMPT.length, mix: rows, cache: null, logits: 'all' });
    const batched: Float32Array[][] = [[output.logits]];
    for (const token of DECODE) {
      output = await all.doStep({ inputIds: new Int32Array(B).fill(token), batchSize: B, sequenceLength: 1, mix: rows, cache: output.cache });
      batched.push([output.logits]);
    }
    rows.forEach((_, row) => {
      const prefillRow = (batched[0]![0] as Float32Array).subarray(row * PROMPT.length * V, (row + 1) * PROMPT.length * V);
      expect(maxAbsDifference(prefillRow, separate[row]![0] as Float32Array)).toBeLessThanOrEqual(1e-5);
      DECODE.forEach((_, step) => {
        const decodeRow = (batched[step + 1]![0] as Float32Array).subarray(row * V, (row + 1) * V);
        expect(maxAbsDifference(decodeRow, separate[row]![step + 1] as Float32Array)).toBeLessThanOrEqual(1e-5);
      });
    });
  });

  // head_dim 8 rotates at position_ids in RotaryEmbedding nodes; head_dim 16 inside GroupQueryAttention
  // at cache positions, which for the padded row are its positions + 2 (docs/model-pack.md)
  it.each([
    ['RotaryEmbedding nodes (head_dim 8)', () => all],
    ['RoPE inside GroupQueryAttention (head_dim 16)', () => packedRotary],
  ])('a left-padded batch (rows of different lengths, engine style) equals separate unpadded runs: %s', async (_, session) => {
    await expectLeftPaddedBatchEqualsSeparateRuns(session());
  });

  it("'last' logits are the last position of 'all', and hidden comes back as (B, H)", async () => {
    const coefficients = mix([0.3, 0.3, 0.4], combination);
    const request = { inputIds: Int32Array.from(PROMPT), batchSize: 1, sequenceLength: PROMPT.length, mix: [coefficients], cache: null };
    const full = await all.doStep({ ...request, logits: 'all' });
    const last = await all.doStep({ ...request, hidden: true });
    const V = arch.vocabSize;
    expect(last.logitsPositions).toBe(1);
    expect(maxAbsDifference(last.logits, full.logits.subarray((PROMPT.length - 1) * V))).toBe(0);
    expect(last.hidden).toHaveLength(arch.hiddenSize);
    expect(Math.max(...Array.from(last.hidden!, Math.abs))).toBeGreaterThan(0.1);
  });
});
