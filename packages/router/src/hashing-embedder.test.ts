// Tests the hashing embedder: shape, norm, determinism, a slow independent reference, settings.

import { cosineSimilarity } from '@lora-tle/mixing';
import { describe, expect, it } from 'vitest';
import { createHashingEmbedder, DEFAULT_HASHING_SETTINGS, type HashingEmbedderSettings } from './hashing-embedder.js';
import { fmix32, fnv1a, fnv1aStep, FNV_OFFSET_BASIS } from './string-hash.js';
import { l2Norm } from './vector.js';

/**
 * Independent reference: the same feature definition written the slow, obvious way (substrings,
 * a Map of feature strings, whole-string hashing) to cross-check the incremental implementation.
 */
function referenceEmbedding(text: string, settings: HashingEmbedderSettings): Float32Array {
  let normalized = settings.lowercase ? text.toLowerCase() : text;
  if (settings.foldDigits) normalized = normalized.replace(/[0-9]/g, '0');
  normalized = normalized.replace(/\s+/g, ' ').trim();
  const vector = new Float64Array(settings.dimension);
  const accumulate = (features: string[], seedUnit: number, weight: number) => {
    const tf = new Map<string, number>();
    for (const feature of features) tf.set(feature, (tf.get(feature) ?? 0) + 1);
    for (const [feature, count] of tf) {
      const key = fmix32(fnv1a(feature, 0, feature.length, fnv1aStep(FNV_OFFSET_BASIS, seedUnit)));
      const sign = key >= 2 ** 31 ? -1 : 1;
      vector[key % settings.dimension]! += sign * weight * (1 + Math.log(count));
    }
  };
  if (normalized === '') return new Float32Array(settings.dimension);
  const padded = ` ${normalized} `;
  const chars: string[] = [];
  for (let n = settings.charMin; n <= settings.charMax; n++) for (let i = 0; i + n <= padded.length; i++) chars.push(padded.slice(i, i + n));
  accumulate(chars, 0xe000, settings.charWeight);
  const words = normalized.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
  const grams: string[] = [];
  for (let n = 1; n <= settings.wordMax; n++) for (let i = 0; i + n <= words.length; i++) grams.push(words.slice(i, i + n).join('\ue002'));
  accumulate(grams, 0xe001, settings.wordWeight);
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return Float32Array.from(vector, (value) => value / norm);
}

describe('hashing embedder', () => {
  const embedder = createHashingEmbedder();

  it('has the declared dimension, unit L2 norm, and is deterministic across instances', async () => {
    const texts = ['Question: Natalia sold clips to 48 of her friends.', 'def add(a, b):\n    return a + b', 'É ü 漢字 🙂'];
    const first = await embedder.embed(texts);
    const second = await createHashingEmbedder().embed(texts);
    expect(embedder.dimension).toBe(4096);
    for (const [index, vector] of first.entries()) {
      expect(vector.length).toBe(4096);
      expect(l2Norm(vector)).toBeCloseTo(1, 5);
      expect(Array.from(vector)).toEqual(Array.from(second[index]!));
    }
  });

  it('matches a slow independent reference of the same feature definition', () => {
    const settings = { ...DEFAULT_HASHING_SETTINGS, dimension: 512 };
    const small = createHashingEmbedder({ dimension: 512 });
    for (const text of ['The the THE the.', 'x = 3 + 4; y = x * 2', 'Wörter, Zeichen — 42 €', 'ab']) {
      const actual = small.embedOne(text);
      const expected = referenceEmbedding(text, settings);
      for (let i = 0; i < 512; i++) expect(actual[i]).toBeCloseTo(expected[i]!, 6);
    }
  });

  it('embeds empty or blank text to the zero vector', () => {
    expect(l2Norm(embedder.embedOne(''))).toBe(0);
    expect(l2Norm(embedder.embedOne(' \n\t '))).toBe(0);
  });

  it('puts two math prompts closer together than math and code', () => {
    const [mathA, mathB, code] = [
      'Question: Tom has 5 apples and buys 7 more. How many apples does he have now?',
      'Question: A baker sells 12 cakes each day. How many cakes does she sell in 6 days?',
      'Write a Python function that reverses a string.\nInput: def reverse(s):',
    ].map((text) => embedder.embedOne(text)) as [Float32Array, Float32Array, Float32Array];
    expect(cosineSimilarity(mathA, mathB)).toBeGreaterThan(cosineSimilarity(mathA, code) + 0.1);
  });

  it('records every setting in the embedder ref, so settings changes are visible', () => {
    const custom = createHashingEmbedder({ dimension: 1024, charMax: 4 });
    expect(custom.id).toBe('hashing');
    expect(custom.settings).toMatchObject({ version: 1, dimension: 1024, charMin: 3, charMax: 4, wordMax: 2, lowercase: true });
    expect(custom.embedOne('hello world').length).toBe(1024);
  });

  it('honours lowercase and foldDigits', () => {
    const folding = createHashingEmbedder({ foldDigits: true });
    expect(Array.from(folding.embedOne('costs 12 dollars'))).toEqual(Array.from(folding.embedOne('costs 98 dollars')));
    expect(Array.from(embedder.embedOne('costs 12 dollars'))).not.toEqual(Array.from(embedder.embedOne('costs 98 dollars')));
    const cased = createHashingEmbedder({ lowercase: false });
    expect(Array.from(embedder.embedOne('Hello'))).toEqual(Array.from(embedder.embedOne('hello')));
    expect(Array.from(cased.embedOne('Hello'))).not.toEqual(Array.from(cased.embedOne('hello')));
  });

  it('rejects bad settings with E_EMBEDDER', () => {
    for (const settings of [{ dimension: 0 }, { dimension: 1.5 }, { charMin: 5, charMax: 3 }, { charMax: 0, wordMax: 0 }, { wordWeight: -1 }]) {
      expect(() => createHashingEmbedder(settings)).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
    }
  });
});
