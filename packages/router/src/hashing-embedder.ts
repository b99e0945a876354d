// The `hashing` embedder: the embedded default, no weights to download. Character n-grams and word
// n-grams are feature-hashed (signed, FNV-1a + fmix32) into D dims with sublinear term frequency
// (1 + ln tf) and a weight per feature type, then L2-normalised. Every setting that changes the
// vectors is recorded in `settings`, so a profile made with other settings is refused.
// Not a semantic model: it separates tasks by vocabulary, format and character patterns.

import { LoraTleError } from '@lora-tle/spec';
import type { Embedder } from '@lora-tle/spec';
import { FNV_OFFSET_BASIS, fmix32, fnv1a, fnv1aStep } from './string-hash.js';
import { createFeatureCounter } from './feature-counter.js';
import { normalizeL2InPlace } from './vector.js';

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
  /** Synchronous embedding of one text (what `embed` runs per text). (D,) L2-normalised; zeros for empty text. */
  embedOne(text: string): Float32Array;
}

// A word is a run of letters, digits or '_'; every other non-space character is a word of its own.
const WORD_PATTERN = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
const CHAR_SEED = fnv1aStep(FNV_OFFSET_BASIS, 0xe000); // private-use code units keep the feature
const WORD_SEED = fnv1aStep(FNV_OFFSET_BASIS, 0xe001); // types apart in hash space
const WORD_SEPARATOR = 0xe002;

export function createHashingEmbedder(settings: Partial<HashingEmbedderSettings> = {}): HashingEmbedder {
  const resolved = validateSettings({ ...DEFAULT_HASHING_SETTINGS, ...settings });
  const { dimension, charMin, charMax, wordMax, charWeight, wordWeight } = resolved;
  const counts = createFeatureCounter();

  // Flush the counted features into `vector`: bucket = key mod D, sign = top bit, value = w·(1+ln tf).
  function flush(vector: Float32Array, weight: number): void {
    counts.forEachAndClear((key, tf) => {
      const bucket = key % dimension;
      const value = weight * (tf === 1 ? 1 : 1 + Math.log(tf));
      vector[bucket] = (vector[bucket] as number) + (key & 0x80000000 ? -value : value);
    });
  }

  function normalizeText(text: string): string {
    let normalized = resolved.lowercase ? text.toLowerCase() : text;
    if (resolved.foldDigits) normalized = normalized.replace(/[0-9]/g, '0');
    return normalized.replace(/\s+/g, ' ').trim();
  }

  function embedOne(text: string): Float32Array {
    const vector = new Float32Array(dimension); // (D,)
    const normalized = normalizeText(text);
    if (normalized.length === 0) return vector;

    if (charMax > 0) {
      const padded = ` ${normalized} `;
      for (let start = 0; start + charMin <= padded.length; start++) {
        let hash = CHAR_SEED;
        const stop = Math.min(start + charMax, padded.length);
        for (let end = start; end < stop; end++) {
          hash = fnv1aStep(hash, padded.charCodeAt(end));
          if (end + 1 - start >= charMin) counts.add(fmix32(hash));
        }
      }
      flush(vector, charWeight);
    }

    if (wordMax > 0) {
      const words = normalized.match(WORD_PATTERN) ?? [];
      for (let start = 0; start < words.length; start++) {
        let hash = WORD_SEED;
        for (let end = start; end < Math.min(start + wordMax, words.length); end++) {
          if (end > start) hash = fnv1aStep(hash, WORD_SEPARATOR);
          hash = fnv1a(words[end] as string, 0, (words[end] as string).length, hash);
          counts.add(fmix32(hash));
        }
      }
      flush(vector, wordWeight);
    }

    return normalizeL2InPlace(vector);
  }

  return {
    id: 'hashing',
    settings: { version: HASHING_EMBEDDER_VERSION, ...resolved },
    dimension,
    embedOne,
    async embed(texts) {
      return texts.map(embedOne);
    },
  };
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
