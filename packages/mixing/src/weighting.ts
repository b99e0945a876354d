// Turning scores into mixing weights: softmax with temperature, the paper's rule (largest
// similarity × 4, then softmax) and top-k with renormalisation. Float32Array in and out, float64
// inside. Not here: where the scores come from (similarity.ts, router strategies).

import { LoraTleError } from '@lora-tle/spec';

/** The factor the paper's code multiplied the largest similarity by ("temperature = 4.0" there). */
export const PAPER_MAX_BOOST = 4;

function requireFinite(scores: ArrayLike<number>, what: string): void {
  if (scores.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', `${what}: got no scores; pass one score per adapter`);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `${what}: score ${i} is ${scores[i]}; scores must be finite numbers`);
    }
  }
}

/** softmax(scores / temperature) → (N,), summing to 1. */
export function softmax(scores: ArrayLike<number>, temperature = 1): Float32Array {
  requireFinite(scores, 'softmax');
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `softmax temperature must be a positive finite number, got ${temperature}`);
  }
  return softmaxBoosted(scores, temperature, -1, 1);
}

/**
 * The paper's rule: multiply the largest similarity (its first occurrence, as Python's
 * list.index(max(...)) picks) by `boost`, then softmax. Note a negative largest similarity becomes
 * smaller, exactly as in the original code.
 */
export function paperWeights(similarities: ArrayLike<number>, boost: number = PAPER_MAX_BOOST): Float32Array {
  requireFinite(similarities, 'paper weights');
  let best = 0;
  for (let i = 1; i < similarities.length; i++) if (similarities[i]! > similarities[best]!) best = i;
  return softmaxBoosted(similarities, 1, best, boost);
}

// softmax(s / temperature) (N,) of the scores with s[boosted] multiplied by `boost` (boosted −1:
// none), shifted by the max (no overflow), in float64 until the float32 result. No scratch arrays:
// each e^x is taken twice (N is the number of adapters), which is cheaper on the per-token path
// than allocating them.
function softmaxBoosted(scores: ArrayLike<number>, temperature: number, boosted: number, boost: number): Float32Array {
  const n = scores.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, scaledScore(scores, i, temperature, boosted, boost));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(scaledScore(scores, i, temperature, boosted, boost) - max);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(scaledScore(scores, i, temperature, boosted, boost) - max) / sum;
  return out;
}

function scaledScore(scores: ArrayLike<number>, i: number, temperature: number, boosted: number, boost: number): number {
  return (i === boosted ? scores[i]! * boost : scores[i]!) / temperature;
}

/**
 * Keep the k largest weights (ties: lower index first), zero the rest, renormalise the kept ones to
 * sum to 1. For non-negative weights such as softmax output.
 */
export function topK(weights: ArrayLike<number>, k: number): Float32Array {
  requireFinite(weights, 'top-k');
  if (!Number.isInteger(k) || k < 1 || k > weights.length) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `top-k needs an integer k between 1 and ${weights.length} (the number of adapters), got ${k}`);
  }
  const order = Array.from({ length: weights.length }, (_, i) => i).sort((x, y) => weights[y]! - weights[x]! || x - y);
  const kept = order.slice(0, k);
  let sum = 0;
  for (const i of kept) {
    if (weights[i]! < 0) throw new LoraTleError('E_INVALID_ARGUMENT', `top-k renormalises non-negative weights; weight ${i} is ${weights[i]}`);
    sum += weights[i]!;
  }
  if (!(sum > 0)) throw new LoraTleError('E_INVALID_ARGUMENT', 'top-k: the kept weights sum to 0, so they cannot be renormalised');
  const out = new Float32Array(weights.length);
  for (const i of kept) out[i] = weights[i]! / sum;
  return out;
}
