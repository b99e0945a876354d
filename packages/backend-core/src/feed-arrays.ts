// The graph feeds of one validated step as plain typed arrays with shapes, keyed by the pack's
// input names: input_ids, attention_mask and position_ids as int64 (BigInt64Array), mix_a/mix_b
// (B, N) float32 from the per-row MixCoefficients, logits_to_keep (T for logits 'all', else 1)
// when the pack has it, the empty past (B, n_kv, 0, d) when there is no cache, and for a session of
// the naive graph the one adapter's factors (naive-graph.ts). Each backend wraps them into its
// runtime's tensors. Not validation (step-validation.ts), not the past of a cache
// (BackendKvCache.pastFeeds).

import type { PackManifest, StepInput } from '@lora-tle/spec';
import { factorFeedArrays } from './naive-graph.js';
import { pastInputNames } from './pack-io-names.js';

export type FeedArray =
  | { type: 'int64'; data: BigInt64Array; dims: number[] }
  | { type: 'float32'; data: Float32Array; dims: number[] };

/** Shape of an empty past_key_values.{i}.* feed: (B, n_kv, 0, d). */
export function emptyPastShape(pack: PackManifest, batchSize: number): number[] {
  return [batchSize, pack.architecture.numKvHeads, 0, pack.architecture.headDim];
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * int32-range integers as int64 without a BigInt per element (decoding converts the whole mask
 * every step): on little-endian hosts each value goes into the low word of its int64 and its sign
 * into the high word, through an Int32Array view.
 */
export function int64From(values: ArrayLike<number>): BigInt64Array {
  const result = new BigInt64Array(values.length);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < values.length; i++) result[i] = BigInt(values[i] as number);
    return result;
  }
  const words = new Int32Array(result.buffer); // (n, 2): low word, high word
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    words[2 * i] = value;
    words[2 * i + 1] = value < 0 ? -1 : 0;
  }
  return result;
}

/**
 * Feeds for `input` (validated) on a past of length `past`. Positions default to past + [0..T),
 * the mask to all ones (B, past + T). Includes empty past_key_values feeds only when input.cache
 * is null; with a cache, the session adds cache.pastFeeds(pack).
 */
export function stepFeedArrays(pack: PackManifest, input: StepInput, past: number): Record<string, FeedArray> {
  const { io } = pack;
  const { batchSize: B, sequenceLength: T } = input;
  const N = pack.adapters.length;
  const total = past + T;

  const ids = int64From(input.inputIds); // (B, T)
  let positions: BigInt64Array; // (B, T)
  if (input.positionIds) {
    positions = int64From(input.positionIds);
  } else {
    const counting = new Int32Array(B * T);
    for (let row = 0; row < B; row++) for (let t = 0; t < T; t++) counting[row * T + t] = past + t;
    positions = int64From(counting);
  }
  const mask = input.attentionMask ? int64From(input.attentionMask) : new BigInt64Array(B * total).fill(1n); // (B, past + T)
  const mixA = new Float32Array(B * N); // (B, N)
  const mixB = new Float32Array(B * N); // (B, N)
  input.mix.forEach((row, index) => {
    mixA.set(row.a, index * N);
    mixB.set(row.b, index * N);
  });
  const feeds: Record<string, FeedArray> = {
    [io.inputIds]: { type: 'int64', data: ids, dims: [B, T] },
    [io.attentionMask]: { type: 'int64', data: mask, dims: [B, total] },
    [io.positionIds]: { type: 'int64', data: positions, dims: [B, T] },
    [io.mixA]: { type: 'float32', data: mixA, dims: [B, N] },
    [io.mixB]: { type: 'float32', data: mixB, dims: [B, N] },
  };
  if (io.logitsToKeep) feeds[io.logitsToKeep] = { type: 'int64', data: BigInt64Array.of(BigInt(input.logits === 'all' ? T : 1)), dims: [1] };
  if (input.cache === null) {
    for (const names of pastInputNames(pack)) {
      feeds[names.key] = { type: 'float32', data: new Float32Array(0), dims: emptyPastShape(pack, B) };
      feeds[names.value] = { type: 'float32', data: new Float32Array(0), dims: emptyPastShape(pack, B) };
    }
  }
  if (pack.factorInputs && input.adapterFactors) Object.assign(feeds, factorFeedArrays(pack.factorInputs, input.adapterFactors));
  return feeds;
}
