// Cosine similarity between a context embedding and adapter profiles, as the paper computed it
// (torch.nn.CosineSimilarity(dim=0, eps=1e-6): each norm is clamped at eps separately).
// Not here: embedding text (router) or turning similarities into weights (weighting.ts).

import { LoraTleError } from '@lora-tle/spec';

/** The eps the original LoRA-TLE code passed to torch.nn.CosineSimilarity. */
export const PAPER_COSINE_EPS = 1e-6;

/** x·y / (max(‖x‖, eps) · max(‖y‖, eps)), accumulated in float64. A zero vector gives 0. */
export function cosineSimilarity(x: ArrayLike<number>, y: ArrayLike<number>, eps: number = PAPER_COSINE_EPS): number {
  if (x.length !== y.length) {
    throw new LoraTleError(
      'E_INVALID_ARGUMENT',
      `cosine similarity needs vectors of equal length, got ${x.length} and ${y.length}; were the context and the profile made by the same embedder?`,
    );
  }
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    dot += xi * yi;
    xx += xi * xi;
    yy += yi * yi;
  }
  return dot / (Math.max(Math.sqrt(xx), eps) * Math.max(Math.sqrt(yy), eps));
}

/** Similarity of one query (D,) to each of N profiles (D,) → (N,). */
export function cosineSimilarities(query: ArrayLike<number>, profiles: readonly ArrayLike<number>[], eps: number = PAPER_COSINE_EPS): Float32Array {
  const out = new Float32Array(profiles.length);
  profiles.forEach((profile, i) => (out[i] = cosineSimilarity(query, profile, eps)));
  return out;
}
