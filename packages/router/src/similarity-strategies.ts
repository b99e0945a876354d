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

/** The paper's rule: cosine similarities, the largest multiplied by 4, softmax. */
export function createPaperStrategy(): RoutingStrategy {
  return {
    id: 'paper',
    doRoute: (input) => ({ adapters: input.adapters, weights: paperWeights(profileSimilarities(input)) }),
  };
}

/** softmax(similarity / T). Small T → close to one-hot on the nearest profile; large T → uniform. */
export function createSoftmaxStrategy({ temperature = 1 }: { temperature?: number } = {}): RoutingStrategy {
  requireTemperature(temperature, 'softmax');
  return {
    id: `softmax:${temperature}`,
    doRoute: (input) => ({ adapters: input.adapters, weights: softmax(profileSimilarities(input), temperature) }),
  };
}

/** softmax(similarity / T), then keep the k largest and renormalise: exactly k adapters active. */
export function createTopKStrategy({ k, temperature = 1 }: { k: number; temperature?: number }): RoutingStrategy {
  if (!Number.isInteger(k) || k < 1) throw new LoraTleError('E_STRATEGY', `top-k needs a whole k ≥ 1, got ${k}; write e.g. top-k:2`);
  requireTemperature(temperature, 'top-k');
  return {
    id: `top-k:${k}:${temperature}`,
    doRoute: (input) => {
      if (k > input.adapters.length) {
        throw new LoraTleError('E_STRATEGY', `top-k:${k} asks for more adapters than the ${input.adapters.length} there are; use k ≤ ${input.adapters.length}`);
      }
      return { adapters: input.adapters, weights: topK(softmax(profileSimilarities(input), temperature), k) };
    },
  };
}

export function requireTemperature(temperature: number, strategy: string): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new LoraTleError('E_STRATEGY', `${strategy} temperature must be a positive number, got ${temperature}; write e.g. ${strategy}:0.5`);
  }
}
