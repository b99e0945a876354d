// Chunk planning and stepInChunks with a fake single run (no runtime): which token ranges run,
// what each run is fed, how logits and the hidden mean are put back together, and that a failed
// run disposes the step's intermediate cache. Numerical equality with one real run is tested in
// backend-node (node-session.webgpu.test.ts).

import { describe, expect, it } from 'vitest';
import type { KvCache, StepInput, StepOutput } from '@lora-tle/spec';
import { columns, planChunks, stepInChunks, WEBGPU_MAX_TOKENS_PER_RUN } from './chunked-step.js';
import { mixRow } from './test-support.js';

describe('planChunks', () => {
  it('batch 1: chunks of maxTokensPerRun; a batch: the first chunk, then one token per run', () => {
    expect(planChunks(1, 10, 3)).toEqual([[0, 3], [3, 6], [6, 9], [9, 10]]);
    expect(planChunks(3, 6, 3)).toEqual([[0, 3], [3, 4], [4, 5], [5, 6]]);
    expect(planChunks(1, 31, WEBGPU_MAX_TOKENS_PER_RUN)).toEqual([[0, 31]]);
    expect(planChunks(1, 32, WEBGPU_MAX_TOKENS_PER_RUN)).toEqual([[0, 31], [31, 32]]);
    expect(planChunks(2, 5, Number.POSITIVE_INFINITY)).toEqual([[0, 5]]);
  });

  it('columns takes [from, to) of every row', () => {
    expect(columns(Int32Array.of(1, 2, 3, 4, 5, 6), 2, 3, 1, 3)).toEqual(Int32Array.of(2, 3, 5, 6));
    expect(columns(Uint8Array.of(1, 0, 1, 1), 2, 2, 0, 1)).toEqual(Uint8Array.of(1, 1));
  });
});

const V = 2;
const H = 2;

/** A fake run: logits of token id x at row r = [x, 100·r]; hidden = mean of the row's real ids, twice; caches counted. */
function fakeRun(calls: { input: StepInput; past: number }[], disposedCaches: number[], failAt = -1) {
  return async (chunk: StepInput, past: number): Promise<StepOutput> => {
    if (calls.length === failAt) throw new Error('device lost');
    calls.push({ input: chunk, past });
    const { batchSize: B, sequenceLength: T } = chunk;
    const all = new Float32Array(B * T * V);
    for (let i = 0; i < B * T; i++) all.set([chunk.inputIds[i] as number, 100 * Math.floor(i / T)], i * V);
    const logits = chunk.logits === 'all' ? all : Float32Array.from({ length: B * V }, (_, j) => all[(Math.floor(j / V) * T + T - 1) * V + (j % V)] as number);
    const hidden = new Float32Array(B * H);
    for (let row = 0; row < B; row++) {
      let sum = 0;
      let count = 0;
      for (let t = 0; t < T; t++) {
        const real = chunk.attentionMask ? (chunk.attentionMask[row * (past + T) + past + t] as number) : 1;
        sum += real * (chunk.inputIds[row * T + t] as number);
        count += real;
      }
      hidden.fill(count > 0 ? sum / count : 0, row * H, (row + 1) * H);
    }
    const id = calls.length;
    const cache: KvCache = { backendId: 'test', batchSize: B, length: past + T, dispose: () => disposedCaches.push(id) };
    return { logits, logitsPositions: chunk.logits === 'all' ? T : 1, cache, hidden };
  };
}

describe('stepInChunks', () => {
  it("batch 1 on a past of 2: runs 3+3+1 tokens, concatenates 'all' logits, hidden = mean over all tokens", async () => {
    const calls: { input: StepInput; past: number }[] = [];
    const input: StepInput = { inputIds: Int32Array.of(1, 2, 3, 4, 5, 6, 7), batchSize: 1, sequenceLength: 7, mix: [mixRow(1)], cache: null, logits: 'all', hidden: true };
    const output = await stepInChunks(input, 2, { vocabSize: V, hiddenSize: H, maxTokensPerRun: 3 }, fakeRun(calls, []));
    expect(calls.map((call) => [Array.from(call.input.inputIds), call.past])).toEqual([[[1, 2, 3], 2], [[4, 5, 6], 5], [[7], 8]]);
    expect(calls[1]?.input.cache?.length).toBe(5); // each run gets the previous run's cache
    expect(Array.from(output.logits)).toEqual([1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0]);
    expect(output.logitsPositions).toBe(7);
    expect(output.cache.length).toBe(9);
    expect(Array.from(output.hidden!)).toEqual([4, 4]); // mean of 1..7
  });

  it('keepCache false reaches only the last run: the runs before it pass their caches on', async () => {
    const calls: { input: StepInput; past: number }[] = [];
    const input: StepInput = { inputIds: Int32Array.of(1, 2, 3, 4, 5, 6, 7), batchSize: 1, sequenceLength: 7, mix: [mixRow(1)], cache: null, keepCache: false };
    await stepInChunks(input, 0, { vocabSize: V, hiddenSize: H, maxTokensPerRun: 3 }, fakeRun(calls, []));
    expect(calls.map((call) => call.input.keepCache)).toEqual([undefined, undefined, false]);
  });

  it("a left-padded batch: mask columns past + end per run, 'last' logits, hidden over real tokens only", async () => {
    const calls: { input: StepInput; past: number }[] = [];
    // rows: [9, 1, 2, 3] all real; [0, 0, 5, 7] two pads
    const input: StepInput = {
      inputIds: Int32Array.of(9, 1, 2, 3, 0, 0, 5, 7), batchSize: 2, sequenceLength: 4, mix: [mixRow(1), mixRow(0)], cache: null,
      attentionMask: Uint8Array.of(1, 1, 1, 1, 0, 0, 1, 1), positionIds: Int32Array.of(0, 1, 2, 3, 0, 0, 0, 1), hidden: true,
    };
    const output = await stepInChunks(input, 0, { vocabSize: V, hiddenSize: H, maxTokensPerRun: 2 }, fakeRun(calls, []));
    expect(calls.map((call) => call.input.sequenceLength)).toEqual([2, 1, 1]);
    expect(Array.from(calls[1]!.input.attentionMask!)).toEqual([1, 1, 1, 0, 0, 1]);
    expect(Array.from(calls[2]!.input.positionIds!)).toEqual([3, 1]);
    expect(Array.from(output.logits)).toEqual([3, 0, 7, 100]);
    expect(output.logitsPositions).toBe(1);
    expect(Array.from(output.hidden!)).toEqual([15 / 4, 15 / 4, 6, 6]);
  });

  it("a failed run disposes the step's intermediate cache, not the caller's", async () => {
    const disposed: number[] = [];
    const callerCache: KvCache = { backendId: 'test', batchSize: 1, length: 1, dispose: () => disposed.push(-1) };
    const input: StepInput = { inputIds: Int32Array.of(1, 2, 3, 4, 5), batchSize: 1, sequenceLength: 5, mix: [mixRow(1)], cache: callerCache };
    await expect(stepInChunks(input, 1, { vocabSize: V, hiddenSize: H, maxTokensPerRun: 2 }, fakeRun([], disposed, 2))).rejects.toThrow('device lost');
    expect(disposed).toEqual([2]);
    await expect(stepInChunks(input, 1, { vocabSize: V, hiddenSize: H, maxTokensPerRun: 2 }, fakeRun([], disposed, 0))).rejects.toThrow('device lost');
    expect(disposed).toEqual([2]);
  });
});
