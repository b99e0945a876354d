// Worked example from docs/adding-a-routing-strategy.md (kept in sync by a test): a custom
// strategy `confident:<s>` — the most similar adapter alone when its cosine similarity is at least
// s, otherwise the base model. Not exported from the package; it shows how users add strategies.

import { numberArg, profileSimilarities, type StrategyRegistry } from '@lora-tle/router';
import { LoraTleError, type RoutingStrategy } from '@lora-tle/spec';

export function createConfidentStrategy(minSimilarity: number): RoutingStrategy {
  if (!(minSimilarity >= -1 && minSimilarity <= 1)) {
    throw new LoraTleError('E_STRATEGY', `confident needs a similarity threshold in [-1, 1], got ${minSimilarity}; write e.g. confident:0.3`);
  }
  return {
    id: `confident:${minSimilarity}`,
    doRoute(input) {
      const similarities = profileSimilarities(input); // (N,) cosine to each profile mean
      let best = 0;
      for (let i = 1; i < similarities.length; i++) if (similarities[i]! > similarities[best]!) best = i;
      const weights = new Float32Array(input.adapters.length); // (N,) all zeros = the base model
      if (similarities[best]! >= minSimilarity) weights[best] = 1;
      return { adapters: input.adapters, weights };
    },
  };
}

export function registerConfidentStrategy(registry: StrategyRegistry): StrategyRegistry {
  return registry.register('confident', {
    usage: 'confident:<min-similarity>',
    factory: (args) => createConfidentStrategy(numberArg(args[0], 0.3, 'confident threshold', 'confident:<min-similarity>')),
  });
}
