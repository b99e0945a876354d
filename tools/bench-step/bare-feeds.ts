// The feeds of one bare onnxruntime-node step for the tools in this folder (no lora-tle backend):
// batch 1, token ids 5, 6, … (wrapping below the vocabulary size), every position real, mixture a = 1/N, b = 1 on every adapter, and the
// last step's present.* as this step's past. Built with backend-core's pure feed helpers.

import { pastInputNames, presentOutputNames, stepFeedArrays } from '@lora-tle/backend-core';
import type { PackManifest } from '@lora-tle/spec';
import { type InferenceSession, Tensor } from 'onnxruntime-node';

/** Feeds of a `tokens`-token step on a past of `past` positions; `cache` = the last step's outputs, or null for none. */
export function bareStepFeeds(pack: PackManifest, tokens: number, past: number, cache: InferenceSession.OnnxValueMapType | null): Record<string, Tensor> {
  const N = pack.adapters.length;
  const mix = [{ a: new Float32Array(N).fill(1 / N), b: new Float32Array(N).fill(1) }];
  const inputIds = Int32Array.from({ length: tokens }, (_, t) => 5 + (t % (pack.architecture.vocabSize - 5)));
  const result: Record<string, Tensor> = {};
  // without a cache, stepFeedArrays adds empty past feeds; with one, the presents of the last step replace them
  const arrays = stepFeedArrays(pack, { inputIds, batchSize: 1, sequenceLength: tokens, mix, cache: null, logits: 'last' }, past);
  for (const [name, feed] of Object.entries(arrays)) result[name] = new Tensor(feed.type, feed.data, feed.dims);
  if (cache !== null) {
    const presents = presentOutputNames(pack);
    pastInputNames(pack).forEach((names, layer) => {
      result[names.key] = cache[presents[layer]!.key] as Tensor;
      result[names.value] = cache[presents[layer]!.value] as Tensor;
    });
  }
  return result;
}
