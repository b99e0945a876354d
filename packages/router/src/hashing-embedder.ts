// The `hashing` embedder: the embedded default, no weights to download. Character n-grams and word
// n-grams are feature-hashed (signed, FNV-1a + fmix32) into D dims with sublinear term frequency
// (1 + ln tf) and a weight per feature type, then L2-normalised. Every setting that changes the
// vectors is recorded in `settings`, so a profile made with other settings is refused.
// Optionally fitted (fitHashingEmbedder): each feature is also weighted by its task document
// frequency over the adapters' training texts (hashing-fit.ts); `settings.fit` then holds the
// fit's content hash, so profiles made with another fit are refused too.
// Not a semantic model: it separates tasks by vocabulary, format and character patterns.

import { LoraTleError } from '@lora-tle/spec';
import type { Embedder } from '@lora-tle/spec';
import { fmix32, fnv1a, fnv1aStep } from './string-hash.js';
import { normalizeHashingText, sublinearTf, visitCharNgrams, WORD_PATTERN, WORD_SEED, WORD_SEPARATOR } from './hashing-features.js';
import { createIncrementalHashing, type IncrementalHashingEmbedding } from './incremental-hashing.js';
import { createFeatureCounter } from './feature-counter.js';
import { normalizeL2InPlace } from './vector.js';
import { assertValidFit, createFitLookup, DEFAULT_MIN_FRACTION, fitFeatureWeights, hashingFitHash, type HashingFit } from './hashing-fit.js';

/** Bump when the feature extraction changes, so old profiles are refused. */
export const HASHING_EMBEDDER_VERSION = 1;

export interface HashingEmbedderSettings {
  /** Output dimension D (default 4096). Collisions grow as D shrinks; cost is O(text length), not O(D). */
  dimension: number;
  /** Shortest and longest character n-gram (default 3..6). 0 for charMax disables character n-grams. */
  charMin: number;
  charMax: number;
  /** Longest word n-gram (default 2: unigrams and bigrams). 0 disables word n-grams. */
  wordMax: number;
  /** Weight of each character n-gram feature and each word n-gram feature (default 1 and 0.5; word features matter less: tuned on the real task data, see the routing accuracy test). */
  charWeight: number;
  wordWeight: number;
  /** Lower-case the text first (default true). */
  lowercase: boolean;
  /** Map every digit to '0' (default false: folding made math questions look like reading passages). */
  foldDigits: boolean;
}

export const DEFAULT_HASHING_SETTINGS: Readonly<HashingEmbedderSettings> = Object.freeze({
  dimension: 4096,
  charMin: 3,
  charMax: 6,
  wordMax: 2,
  charWeight: 1,
  wordWeight: 0.5,
  lowercase: true,
  foldDigits: false,
});

export interface HashingEmbedder extends Embedder {
  readonly id: 'hashing';
  /** The fitted feature weights, or null for the unfitted embedder. */
  readonly fit: HashingFit | null;
  /** Synchronous embedding of one text (what `embed` runs per text). (D,) L2-normalised; zeros for empty text. */
  embedOne(text: string): Float32Array;
  /**
   * An incremental embedding of a growing text against these profile means (N, D): each update
   * that extends the previous text costs O(appended text). What the Router uses per token.
   */
  createIncremental(profiles: readonly Float32Array[]): IncrementalHashingEmbedding;
}

export interface HashingEmbedderOptions extends Partial<HashingEmbedderSettings> {
  /** A fit from fitHashingEmbedder (or restored from the store); its feature settings are used. */
  fitted?: HashingFit;
}

export function createHashingEmbedder(options: HashingEmbedderOptions = {}): HashingEmbedder {
  const { fitted, ...settings } = options;
  if (fitted !== undefined) {
    assertValidFit(fitted);
    for (const [key, value] of Object.entries(settings)) {
      if (key !== 'dimension' && value !== undefined && value !== (fitted.settings as Record<string, unknown>)[key]) {
        throw new LoraTleError('E_EMBEDDER', `hashing embedder: ${key} ${String(value)} differs from the fit's ${String((fitted.settings as Record<string, unknown>)[key])}; leave it out (the fit decides) or refit`);
      }
    }
  }
  const resolved = validateSettings({ ...DEFAULT_HASHING_SETTINGS, ...(fitted?.settings ?? {}), ...settings });
  const { dimension, charMin, charMax, wordMax, charWeight, wordWeight } = resolved;
  const counts = createFeatureCounter();
  const fitWeight = fitted === undefined ? null : createFitLookup(fitted);

  // Flush the counted features into `vector`: bucket = key mod D, sign = top bit,
  // value = w_type·(1+ln tf)·w_fit(key) (w_fit = 1 unfitted; 0 drops the feature). The visitor is
  // made once (see incremental-hashing.ts: a closure made per call loses its optimised code at
  // every full garbage collection).
  const noVector: Float32Array = new Float32Array(0);
  let flushVector: Float32Array = noVector;
  let flushWeight = 0;
  const flushFeature = (key: number, tf: number): void => {
    const keyWeight = fitWeight === null ? 1 : fitWeight(key);
    if (keyWeight === 0) return;
    const bucket = key % dimension;
    const value = flushWeight * keyWeight * sublinearTf(tf);
    flushVector[bucket] = (flushVector[bucket] as number) + (key & 0x80000000 ? -value : value);
  };
  function flush(vector: Float32Array, weight: number): void {
    flushVector = vector;
    flushWeight = weight;
    counts.forEachAndClear(flushFeature);
    flushVector = noVector; // the caller's vector is not kept alive by the embedder
  }

  const normalizeText = (text: string) => normalizeHashingText(text, resolved.lowercase, resolved.foldDigits);
  const addCount = (key: number) => counts.add(key);

  function countCharFeatures(normalized: string): void {
    visitCharNgrams(` ${normalized} `, charMin, charMax, 0, addCount);
  }

  function countWordFeatures(normalized: string): void {
    const words = normalized.match(WORD_PATTERN) ?? [];
    for (let start = 0; start < words.length; start++) {
      let hash = WORD_SEED;
      for (let end = start; end < Math.min(start + wordMax, words.length); end++) {
        if (end > start) hash = fnv1aStep(hash, WORD_SEPARATOR);
        hash = fnv1a(words[end] as string, 0, (words[end] as string).length, hash);
        counts.add(fmix32(hash));
      }
    }
  }

  function embedOne(text: string): Float32Array {
    const vector = new Float32Array(dimension); // (D,)
    const normalized = normalizeText(text);
    if (normalized.length === 0) return vector;
    if (charMax > 0) {
      countCharFeatures(normalized);
      flush(vector, charWeight);
    }
    if (wordMax > 0) {
      countWordFeatures(normalized);
      flush(vector, wordWeight);
    }
    return normalizeL2InPlace(vector);
  }

  /** Every distinct feature key of `text` once (char and word keys live in separate hash seeds). */
  function visitFeatureKeys(text: string, visit: (key: number) => void): void {
    const normalized = normalizeText(text);
    if (normalized.length === 0) return;
    if (charMax > 0) countCharFeatures(normalized);
    if (wordMax > 0) countWordFeatures(normalized);
    counts.forEachAndClear((key) => visit(key));
  }

  const recorded: Record<string, string | number | boolean> = { version: HASHING_EMBEDDER_VERSION, ...resolved };
  if (fitted !== undefined) {
    recorded['fit'] = hashingFitHash(fitted);
    recorded['fitFeatures'] = fitted.keys.length;
  }
  const embedder: HashingEmbedder & { visitFeatureKeys: typeof visitFeatureKeys } = {
    id: 'hashing',
    settings: recorded,
    dimension,
    fit: fitted ?? null,
    embedOne,
    async embed(texts) {
      return texts.map(embedOne);
    },
    visitFeatureKeys,
    createIncremental: (profiles) => createIncrementalHashing({ settings: resolved, fitWeight, profiles }),
  };
  return embedder;
}

export interface FitHashingOptions extends Partial<HashingEmbedderSettings> {
  /** Drop features below this task document frequency (default 0.01 = 1% of some task's texts). */
  minFraction?: number;
}

/**
 * Fit the embedder on every adapter's formatted training texts (the same texts its profile
 * averages) and return the fitted embedder. Build the profiles with this embedder, save its fit
 * next to them (saveHashingFit) and route with the same embedder (openStoreHashingEmbedder).
 */
export function fitHashingEmbedder(textsByAdapter: Readonly<Record<string, readonly string[]>>, options: FitHashingOptions = {}): HashingEmbedder {
  const { minFraction = DEFAULT_MIN_FRACTION, ...settings } = options;
  const tasks = Object.entries(textsByAdapter);
  if (tasks.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', 'fitHashingEmbedder needs the training texts of at least one adapter');
  for (const [adapter, texts] of tasks) {
    if (texts.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', `fitHashingEmbedder: adapter "${adapter}" has 0 texts; pass its formatted training examples`);
  }
  const unfitted = createHashingEmbedder(settings) as HashingEmbedder & { visitFeatureKeys: (text: string, visit: (key: number) => void) => void };
  const { dimension: _dimension, ...featureSettings } = validateSettings({ ...DEFAULT_HASHING_SETTINGS, ...settings });
  const { keys, weights } = fitFeatureWeights(tasks.map(([, texts]) => texts), unfitted.visitFeatureKeys, minFraction);
  return createHashingEmbedder({ ...(settings.dimension === undefined ? {} : { dimension: settings.dimension }), fitted: { settings: featureSettings, keys, weights, minFraction } });
}

function validateSettings(settings: HashingEmbedderSettings): HashingEmbedderSettings {
  const fail = (message: string): never => {
    throw new LoraTleError('E_EMBEDDER', `hashing embedder: ${message}`, { details: { settings } });
  };
  const isWhole = (value: number, min: number) => Number.isInteger(value) && value >= min;
  if (!isWhole(settings.dimension, 1) || settings.dimension > 2 ** 24) {
    fail(`dimension must be an integer in 1..16777216, got ${settings.dimension}`);
  }
  if (!isWhole(settings.charMax, 0)) fail(`charMax must be a non-negative integer, got ${settings.charMax}`);
  if (settings.charMax > 0 && (!isWhole(settings.charMin, 1) || settings.charMin > settings.charMax)) {
    fail(`charMin must be an integer in 1..charMax (${settings.charMax}), got ${settings.charMin}`);
  }
  if (!isWhole(settings.wordMax, 0)) fail(`wordMax must be a non-negative integer, got ${settings.wordMax}`);
  if (settings.charMax === 0 && settings.wordMax === 0) fail('charMax and wordMax are both 0: no features left');
  for (const name of ['charWeight', 'wordWeight'] as const) {
    if (!Number.isFinite(settings[name]) || settings[name] < 0) fail(`${name} must be a finite number ≥ 0, got ${settings[name]}`);
  }
  return settings;
}
