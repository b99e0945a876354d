// Chunk planning for devices that compute only so many query tokens per run correctly: a step
// longer than maxTokensPerRun runs as several runs over one cache and returns what one run would
// (logits 'all' concatenated or the last run's 'last'; hidden = mean over every run's real tokens).
// Runtime-agnostic: the session passes its own single-run function. Not validation (step-validation.ts).

import type { StepInput, StepOutput } from '@lora-tle/spec';

/**
 * onnxruntime 1.30's WebGPU GroupQueryAttention returns wrong attention (off by ~1e-2 in the
 * attention output, ~0.5 in tiny-tle logits) when one run feeds 32 or more query tokens: with
 * any batch size, past length, head count and head size tried (d = 8…128), while 31 tokens match
 * the CPU to 1e-7 (measured with onnxruntime-node on Mesa lavapipe; tools/ci/README.md).
 * onnxruntime-web ships the same WebGPU kernels, so backend-web applies the limit too.
 * Decode (1 token) is unaffected.
 */
export const WEBGPU_MAX_TOKENS_PER_RUN = 31;

/**
 * Token ranges [start, end) of a T-token step with B rows. Batch 1: chunks of maxTokensPerRun.
 * A batch (allowed only on an empty cache): the first maxTokensPerRun tokens of every row, then
 * one token per run (GroupQueryAttention takes a multi-token step on a non-empty cache only for
 * batch 1). One range [0, T) when T ≤ maxTokensPerRun.
 */
export function planChunks(batchSize: number, sequenceLength: number, maxTokensPerRun: number): [number, number][] {
  const T = sequenceLength;
  const first = Math.min(T, maxTokensPerRun);
  const stride = batchSize === 1 ? maxTokensPerRun : 1;
  const bounds: [number, number][] = [[0, first]];
  for (let start = first; start < T; start += stride) bounds.push([start, Math.min(T, start + stride)]);
  return bounds;
}

/** Columns [from, to) of every row of a (rows, width) row-major array. */
export function columns<Values extends Int32Array | Uint8Array>(source: Values, rows: number, width: number, from: number, to: number): Values {
  const result = (source instanceof Int32Array ? new Int32Array(rows * (to - from)) : new Uint8Array(rows * (to - from))) as Values;
  for (let row = 0; row < rows; row++) result.set(source.subarray(row * width + from, row * width + to), row * (to - from));
  return result;
}

export interface ChunkedStepShape {
  vocabSize: number; // V
  hiddenSize: number; // H
  maxTokensPerRun: number;
}

/**
 * Runs a validated `input` (on a past of length `past`) as the chunks of planChunks, each through
 * `runOnce(chunk, pastOfChunk)`, which must consume the chunk's cache and return the next.
 * On failure, a cache made by an earlier chunk of this step is disposed before rethrowing.
 */
export async function stepInChunks(
  input: StepInput,
  past: number,
  shape: ChunkedStepShape,
  runOnce: (chunk: StepInput, past: number) => Promise<StepOutput>,
): Promise<StepOutput> {
  const { batchSize: B, sequenceLength: T } = input;
  const { vocabSize: V, hiddenSize: H } = shape;
  const wantAll = input.logits === 'all';

  const allLogits = wantAll ? new Float32Array(B * T * V) : null; // (B, T, V)
  const hiddenSum = input.hidden ? new Float64Array(B * H) : null; // (B, H) Σ over runs of count · mean
  const realTokens = new Float64Array(B);
  let cache = input.cache;
  let output: StepOutput | null = null;
  try {
    for (const [start, end] of planChunks(B, T, shape.maxTokensPerRun)) {
      const length = end - start;
      const chunk: StepInput = {
        inputIds: columns(input.inputIds, B, T, start, end),
        batchSize: B,
        sequenceLength: length,
        mix: input.mix,
        cache,
        logits: wantAll ? 'all' : 'last',
        ...(input.hidden ? { hidden: true } : {}),
        ...(input.keepCache === false && end === T ? { keepCache: false } : {}), // the chunks before need theirs
        ...(input.positionIds ? { positionIds: columns(input.positionIds, B, T, start, end) } : {}),
        ...(input.attentionMask ? { attentionMask: columns(input.attentionMask, B, past + T, 0, past + end) } : {}),
      };
      output = await runOnce(chunk, past + start);
      cache = output.cache;
      if (allLogits) for (let row = 0; row < B; row++) allLogits.set(output.logits.subarray(row * length * V, (row + 1) * length * V), (row * T + start) * V);
      if (hiddenSum && output.hidden) {
        for (let row = 0; row < B; row++) {
          let count = length;
          if (input.attentionMask) {
            count = 0;
            for (let t = start; t < end; t++) count += input.attentionMask[row * (past + T) + past + t] as number;
          }
          realTokens[row] = (realTokens[row] as number) + count;
          for (let j = 0; j < H; j++) hiddenSum[row * H + j] = (hiddenSum[row * H + j] as number) + count * (output.hidden[row * H + j] as number);
        }
      }
    }
  } catch (error) {
    if (cache !== input.cache) cache?.dispose(); // an intermediate cache of this step
    throw error;
  }
  const last = output as StepOutput;
  const result: StepOutput = { logits: allLogits ?? last.logits, logitsPositions: wantAll ? T : 1, cache: last.cache };
  if (hiddenSum) result.hidden = Float32Array.from(hiddenSum, (sum, index) => sum / Math.max(1, realTokens[Math.floor(index / H)] as number));
  return result;
}
