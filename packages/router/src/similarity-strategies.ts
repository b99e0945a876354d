// The strategies that weight adapters by the cosine similarity of the context embedding to each
// profile mean: `paper` (largest ×4, then softmax), `softmax:T` and `top-k:k:T`. The formulas live
// in @lora-tle/mixing; this file only wires them to RouteInput. Not here: knn (knn-strategy.ts).

import { cosineSimilarities, paperWeights, softmax, topK } from '@lora-tle/mixing';
import { LoraTleError } from '@lora-tle/spec';
import type { RouteInput, RoutingStrategy } from '@lora-tle/spec';
import { PrecomputedContext } from './precomputed-similarities.js';

/**
 * Cosine similarity of the context to each profile mean → (N,), in `input.adapters` order. Uses the
 * similarities the Router attached to the context (incremental hashing) when there are some.
 */
export function profileSimilarities(input: RouteInput): Float32Array {
  if (input.profiles.length !== input.adapters.length) {
    throw new LoraTleError('E_PROFILE_MISSING', `routing needs one profile per adapter: ${input.adapters.length} adapters, ${input.profiles.length} profiles`);
  }
  return PrecomputedContext.similaritiesOf(input.context, input.profiles) ?? cosineSimilarities(input.context.embedding, input.profiles.map((profile) => profile.mean));
}

/**
 * A strategy whose weights depend only on the cosine similarity of the context to each profile
 * mean. Given those similarities (N,), in the adapters' order, weightsFromSimilarities returns the
 * weights (N,) doRoute would: a router that already knows the similarities (the incremental
 * hashing path) calls it directly, with no RoutingContext made for the step.
 */
export interface SimilarityStrategy extends RoutingStrategy {
  weightsFromSimilarities(similarities: Float32Array): Float32Array;
}

function similarityStrategy(id: string, weightsFromSimilarities: (similarities: Float32Array) => Float32Array): SimilarityStrategy {
  return {
    id,
    weightsFromSimilarities,
    doRoute: (input) => ({ adapters: input.adapters, weights: weightsFromSimilarities(profileSimilarities(input)) }),
  };
}

/** The paper's rule: cosine similarities, the largest multiplied by 4, softmax. */
export function createPaperStrategy(): SimilarityStrategy {
  return similarityStrategy('paper', (similarities) => paperWeights(similarities));
}

/** softmax(similarity / T). Small T → close to one-hot on the nearest profile; large T → uniform. */
export function createSoftmaxStrategy({ temperature = 1 }: { temperature?: number } = {}): SimilarityStrategy {
  requireTemperature(temperature, 'softmax');
  return similarityStrategy(`softmax:${temperature}`, (similarities) => softmax(similarities, temperature));
}

/** softmax(similarity / T), then keep the k largest and renormalise: exactly k adapters active. */
export function createTopKStrategy({ k, temperature = 1 }: { k: number; temperature?: number }): SimilarityStrategy {
  if (!Number.isInteger(k) || k < 1) throw new LoraTleError('E_STRATEGY', `top-k needs a whole k ≥ 1, got ${k}; write e.g. top-k:2`);
  requireTemperature(temperature, 'top-k');
  return similarityStrategy(`top-k:${k}:${temperature}`, (similarities) => {
    if (k > similarities.length) {
      throw new LoraTleError('E_STRATEGY', `top-k:${k} asks for more adapters than the ${similarities.length} there are; use k ≤ ${similarities.length}`);
    }
    return topK(softmax(similarities, temperature), k);
  });
}

export function requireTemperature(temperature: number, strategy: string): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new LoraTleError('E_STRATEGY', `${strategy} temperature must be a positive number, got ${temperature}; write e.g. ${strategy}:0.5`);
  }
}
