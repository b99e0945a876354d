// Next-token sampling from one row of logits: greedy (temperature 0) or temperature / top-k / top-p
// with a seeded PRNG, so the same seed on the same backend gives the same text. Not a logits
// processor chain (no repetition penalty); the loop calls `sampler.sample(logits)` once per token.

import { LoraTleError } from '@lora-tle/spec';

/** Sampling settings of one request. Defaults give greedy decoding. */
export interface SamplingOptions {
  /** 0 (default) = greedy argmax; > 0 divides the logits before softmax. */
  temperature?: number;
  /** Keep the k most likely tokens; 0 (default) = no limit. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 (default) = no limit. */
  topP?: number;
  /** PRNG seed (uint32); default 0, so unseeded runs are reproducible too. */
  seed?: number;
}

export interface ResolvedSampling {
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

/** Checks the ranges and fills the defaults; bad values throw E_SAMPLING. */
export function resolveSampling(options: SamplingOptions = {}): ResolvedSampling {
  const temperature = options.temperature ?? 0;
  const topK = options.topK ?? 0;
  const topP = options.topP ?? 1;
  const seed = options.seed ?? 0;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new LoraTleError('E_SAMPLING', `temperature must be a number ≥ 0 (0 = greedy), got ${temperature}`);
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new LoraTleError('E_SAMPLING', `top-k must be an integer ≥ 0 (0 = no limit), got ${topK}`);
  }
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) {
    throw new LoraTleError('E_SAMPLING', `top-p must be in (0, 1] (1 = no limit), got ${topP}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new LoraTleError('E_SAMPLING', `seed must be an integer in [0, 2^32), got ${seed}`);
  }
  return { temperature, topK, topP, seed };
}

/** mulberry32: a 32-bit seeded PRNG, uniform in [0, 1). Small, fast, good enough for sampling. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest logit; the lowest index wins ties (as torch.argmax on CPU). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (value > bestValue) {
      bestValue = value;
      best = index;
    }
  }
  return best;
}

export interface Sampler {
  readonly settings: ResolvedSampling;
  /** Picks the next token id from logits (V,). Advances the PRNG when sampling. */
  sample(logits: Float32Array): number;
}

export function createSampler(options: SamplingOptions = {}): Sampler {
  const settings = resolveSampling(options);
  const random = mulberry32(settings.seed);
  return {
    settings,
    sample(logits) {
      if (settings.temperature === 0) return argmax(logits);
      return sampleFiltered(logits, settings, random());
    },
  };
}

/**
 * Temperature softmax, then top-k, then top-p over the tokens sorted by probability, then one draw.
 * `draw` is uniform in [0, 1). Sorting V logits per token costs O(V log V); fine for V ≤ 256k.
 */
export function sampleFiltered(logits: Float32Array, settings: ResolvedSampling, draw: number): number {
  const order = Array.from({ length: logits.length }, (_, index) => index);
  order.sort((left, right) => logits[right]! - logits[left]! || left - right);
  const keepByK = settings.topK > 0 ? Math.min(settings.topK, order.length) : order.length;
  const maxLogit = logits[order[0]!]!;
  const probabilities = new Float64Array(keepByK); // (kept,) in sorted order, unnormalised
  let total = 0;
  for (let rank = 0; rank < keepByK; rank++) {
    const weight = Math.exp((logits[order[rank]!]! - maxLogit) / settings.temperature);
    probabilities[rank] = weight;
    total += weight;
  }
  // top-p: the smallest prefix whose probability mass reaches p (always at least one token).
  let kept = keepByK;
  if (settings.topP < 1) {
    let mass = 0;
    for (let rank = 0; rank < keepByK; rank++) {
      mass += probabilities[rank]! / total;
      if (mass >= settings.topP) {
        kept = rank + 1;
        break;
      }
    }
  }
  let keptTotal = 0;
  for (let rank = 0; rank < kept; rank++) keptTotal += probabilities[rank]!;
  let threshold = draw * keptTotal;
  for (let rank = 0; rank < kept; rank++) {
    threshold -= probabilities[rank]!;
    if (threshold < 0) return order[rank]!;
  }
  return order[kept - 1]!;
}
