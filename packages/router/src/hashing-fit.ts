// The fitted state of the `hashing` embedder: a weight per hashed feature key, learned from the
// adapters' training texts. A feature's weight is its task document frequency — the largest
// fraction, over tasks, of that task's training texts that contain it — so features typical of some
// task (its format, its vocabulary) count fully and features rare in every task (names, numbers,
// one-off words) fade out; features never seen in training get weight 0.
// Why not inverse document frequency: the paper's rule (largest cosine × 4, then softmax) rewards a
// high absolute similarity to the right profile, and IDF boosts exactly the one-off features that
// make a single context unlike every mean (measured: tiny-tle weight on the right adapter 0.74 →
// 0.64 with IDF, 0.89 with task document frequency; see README "Embedders").
// This file computes the fit, its content hash and a fast lookup table. It does not extract
// features (hashing-embedder.ts) or persist the fit (hashing-fit-store.ts).

import { LoraTleError } from '@lora-tle/spec';
import type { HashingEmbedderSettings } from './hashing-embedder.js';
import { fmix32, fnv1aStep } from './string-hash.js';

export interface HashingFit {
  /** The feature settings the keys were extracted with (dimension excluded: keys do not depend on it). */
  settings: Omit<HashingEmbedderSettings, 'dimension'>;
  /** Kept feature keys, ascending, unique. (M,) */
  keys: Uint32Array;
  /** Each key's weight in (0, 1]: its task document frequency. (M,) */
  weights: Float32Array;
  /** Features below this task document frequency were dropped (weight 0). */
  minFraction: number;
}

/** Default minFraction: a feature must occur in ≥ 1% of some task's texts (keeps the fit small). */
export const DEFAULT_MIN_FRACTION = 0.01;

/**
 * Fit from per-task document frequencies. `keysOfText` visits the distinct feature keys of a text.
 * weight(key) = max over tasks t of |{texts of t containing key}| / |texts of t|.
 */
export function fitFeatureWeights(
  textsByTask: ReadonlyArray<readonly string[]>,
  keysOfText: (text: string, visit: (key: number) => void) => void,
  minFraction: number,
): { keys: Uint32Array; weights: Float32Array } {
  if (!(minFraction > 0 && minFraction <= 1)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `minFraction must be in (0, 1], got ${minFraction}`);
  }
  const best = new Map<number, number>(); // key → largest task document frequency so far
  for (const texts of textsByTask) {
    const documentCount = new Map<number, number>();
    for (const text of texts) keysOfText(text, (key) => documentCount.set(key, (documentCount.get(key) ?? 0) + 1));
    for (const [key, count] of documentCount) {
      const fraction = count / texts.length;
      if (fraction >= minFraction && fraction > (best.get(key) ?? 0)) best.set(key, fraction);
    }
  }
  const keys = Uint32Array.from(best.keys()).sort();
  const weights = Float32Array.from(keys, (key) => best.get(key) as number);
  return { keys, weights };
}

/** 16 hex digits identifying the fit's content (settings, keys, weights, minFraction). Not cryptographic. */
export function hashingFitHash(fit: HashingFit): string {
  let low = 0x811c9dc5;
  let high = 0x01000193 ^ 0x5bd1e995;
  const fold = (unit: number) => {
    low = fnv1aStep(low, unit & 0xffff);
    high = fnv1aStep(high ^ 0x9e3779b9, (unit >>> 16) ^ (unit & 0xffff));
  };
  const header = JSON.stringify({ ...sortedSettings(fit.settings), minFraction: fit.minFraction, count: fit.keys.length });
  for (let i = 0; i < header.length; i++) fold(header.charCodeAt(i));
  const weightBits = new Uint32Array(fit.weights.buffer, fit.weights.byteOffset, fit.weights.length);
  for (let i = 0; i < fit.keys.length; i++) {
    fold(fit.keys[i] as number);
    fold(weightBits[i] as number);
  }
  const hex = (value: number) => (value >>> 0).toString(16).padStart(8, '0');
  return hex(fmix32(high)) + hex(fmix32(low));
}

function sortedSettings(settings: Omit<HashingEmbedderSettings, 'dimension'>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).sort(([left], [right]) => (left < right ? -1 : 1)));
}

/** Throws E_EMBEDDER unless keys are ascending and unique and weights are in (0, 1]. */
export function assertValidFit(fit: HashingFit, source = 'hashing embedder fit'): void {
  const fail = (problem: string): never => {
    throw new LoraTleError('E_EMBEDDER', `${source}: ${problem}; refit the embedder (fitHashingEmbedder) and rebuild the profiles`);
  };
  if (fit.keys.length !== fit.weights.length) fail(`${fit.keys.length} keys but ${fit.weights.length} weights`);
  for (let i = 0; i < fit.keys.length; i++) {
    if (i > 0 && (fit.keys[i] as number) <= (fit.keys[i - 1] as number)) fail(`keys are not ascending and unique at index ${i}`);
    const weight = fit.weights[i] as number;
    if (!(weight > 0 && weight <= 1)) fail(`weight ${i} is ${weight}, expected a number in (0, 1]`);
  }
}

/**
 * key → weight, 0 for keys not in the fit. Open addressing over a power-of-two table (load ≤ 3/4)
 * whose slots hold a key and its weight side by side, so that a probe reads one cache line: the
 * router looks up every feature a routed token changes, right after a model step has streamed the
 * weights through the caches.
 */
export function createFitLookup(fit: HashingFit): (key: number) => number {
  let capacity = 2;
  while (capacity * 3 < fit.keys.length * 4) capacity *= 2;
  const mask = capacity - 1;
  const slots = new Uint32Array(capacity * 2); // slot s: key at 2s, the weight's float32 bits at 2s + 1
  const weights = new Float32Array(slots.buffer); // 0 = empty slot (every stored weight is > 0)
  for (let i = 0; i < fit.keys.length; i++) {
    const key = fit.keys[i] as number;
    let slot = key & mask;
    while (weights[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = key;
    weights[2 * slot + 1] = fit.weights[i] as number;
  }
  return (key) => {
    let slot = key & mask;
    for (;;) {
      const weight = weights[2 * slot + 1] as number;
      if (weight === 0) return 0;
      if (slots[2 * slot] === key) return weight;
      slot = (slot + 1) & mask;
    }
  };
}
