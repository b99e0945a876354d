// `knn:k`: k-nearest-example routing over the profiles' example banks. The k bank examples most
// similar (cosine) to the context vote; an adapter's weight is its share of those k votes.
// Robust when a task is multi-modal (its mean sits between clusters); costs O(bank size × D) per
// route instead of O(N × D), so keep banks small (tens to a few hundred examples per adapter).

import { cosineSimilarity } from '@lora-tle/mixing';
import { LoraTleError } from '@lora-tle/spec';
import type { RoutingStrategy } from '@lora-tle/spec';

export const DEFAULT_KNN_K = 8;

export function createKnnStrategy({ k = DEFAULT_KNN_K }: { k?: number } = {}): RoutingStrategy {
  if (!Number.isInteger(k) || k < 1) throw new LoraTleError('E_STRATEGY', `knn needs a whole k ≥ 1, got ${k}; write e.g. knn:8`);
  return {
    id: `knn:${k}`,
    doRoute: ({ context, profiles, adapters }) => {
      const neighbours: Array<{ adapterIndex: number; exampleIndex: number; similarity: number }> = [];
      profiles.forEach((profile, adapterIndex) => {
        if (profile.bank === undefined || profile.bank.length === 0) {
          throw new LoraTleError(
            'E_STRATEGY',
            `knn routing needs example banks, but the profile of adapter "${profile.adapter}" has none; rebuild the profiles with a bank (lora-tle profile --bank 64) or use another strategy`,
          );
        }
        profile.bank.forEach((example, exampleIndex) => {
          neighbours.push({ adapterIndex, exampleIndex, similarity: cosineSimilarity(context.embedding, example) });
        });
      });
      // Most similar first; ties broken by adapter then example order, so the result is deterministic.
      neighbours.sort((x, y) => y.similarity - x.similarity || x.adapterIndex - y.adapterIndex || x.exampleIndex - y.exampleIndex);
      const voters = neighbours.slice(0, k);
      const weights = new Float32Array(adapters.length); // (N,)
      for (const voter of voters) weights[voter.adapterIndex] = (weights[voter.adapterIndex] as number) + 1 / voters.length;
      return { adapters, weights };
    },
  };
}
