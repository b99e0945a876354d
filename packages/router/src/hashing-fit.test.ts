// Tests the fitted hashing embedder: task document frequency weights (checked against a count by
// hand), the fit hash in the embedder identity, the lookup table, and bad fits.

import { describe, expect, it } from 'vitest';
import { createHashingEmbedder, fitHashingEmbedder } from './hashing-embedder.js';
import { createFitLookup, fitFeatureWeights, hashingFitHash } from './hashing-fit.js';
import { embedderRefOf, sameEmbedderRef } from './embedder-ref.js';
import { l2Norm } from './vector.js';

const TEXTS = {
  math: ['Question: 2 + 3?\nAnswer: 5', 'Question: 4 + 4?\nAnswer: 8', 'Question: Ann has 3 pens.\nAnswer: 3'],
  code: ['Write add(a, b).\nAnswer: return a + b;', 'Write neg(a).\nAnswer: return -a;'],
};

describe('task document frequency fit', () => {
  it('weights a key by the largest fraction of one task’s texts containing it (hand count)', () => {
    // keys are given directly: each "text" is a comma-separated list of keys
    const visit = (text: string, each: (key: number) => void) => new Set(text.split(',').map(Number)).forEach(each);
    const { keys, weights } = fitFeatureWeights([['1,2', '1', '1,3,3'], ['2', '4']], visit, 0.3);
    // key 1: 3/3 in task 0; key 2: 1/3 vs 1/2 → 0.5; key 3: 1/3; key 4: 1/2
    expect(Array.from(keys)).toEqual([1, 2, 3, 4]);
    expect(Array.from(weights).map((w) => +w.toFixed(4))).toEqual([1, 0.5, 0.3333, 0.5]);
    expect(Array.from(fitFeatureWeights([['1,2', '1', '1,3']], visit, 0.5).keys)).toEqual([1]); // below minFraction: dropped
  });

  it('looks up every fitted key and returns 0 for others', () => {
    const keys = Uint32Array.from([0, 7, 8, 0xffffffff, 123456789]).sort();
    const weights = Float32Array.from(keys, (_, i) => (i + 1) / 10);
    const lookup = createFitLookup({ settings: fitHashingEmbedder(TEXTS).fit!.settings, keys, weights, minFraction: 0.1 });
    keys.forEach((key, i) => expect(lookup(key)).toBeCloseTo(weights[i]!, 7));
    for (const key of [1, 9, 0xfffffffe, 16]) expect(lookup(key)).toBe(0);
  });

  it('fits an embedder whose identity carries the fit hash; unfitted settings are unchanged', () => {
    const fitted = fitHashingEmbedder(TEXTS, { dimension: 512 });
    const unfitted = createHashingEmbedder({ dimension: 512 });
    expect(unfitted.fit).toBeNull();
    expect(Object.keys(unfitted.settings)).not.toContain('fit');
    expect(fitted.settings['fit']).toMatch(/^[0-9a-f]{16}$/);
    expect(fitted.settings['fit']).toBe(hashingFitHash(fitted.fit!));
    expect(fitted.settings['fitFeatures']).toBe(fitted.fit!.keys.length);
    expect(sameEmbedderRef(embedderRefOf(fitted), embedderRefOf(unfitted))).toBe(false);
    const refitted = fitHashingEmbedder({ ...TEXTS, code: [...TEXTS.code, 'Write id(a).\nAnswer: return a;'] }, { dimension: 512 });
    expect(refitted.settings['fit']).not.toBe(fitted.settings['fit']);
    // restoring from the fit gives the same identity and the same vectors
    const restored = createHashingEmbedder({ fitted: fitted.fit!, dimension: 512 });
    expect(sameEmbedderRef(restored, fitted)).toBe(true);
    expect(Array.from(restored.embedOne('Question: 9 + 1?'))).toEqual(Array.from(fitted.embedOne('Question: 9 + 1?')));
  });

  it('drops unseen features: text made only of unseen features embeds to zero, seen text to a unit vector', () => {
    const fitted = fitHashingEmbedder(TEXTS, { dimension: 512 });
    expect(l2Norm(fitted.embedOne('zzqx wvvk'))).toBe(0);
    expect(l2Norm(fitted.embedOne('Question: 2 + 3?'))).toBeCloseTo(1, 5);
  });

  it('refuses empty input, a fit that contradicts explicit settings, and a corrupt fit', () => {
    expect(() => fitHashingEmbedder({})).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => fitHashingEmbedder({ math: [] })).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    const fit = fitHashingEmbedder(TEXTS).fit!;
    expect(() => createHashingEmbedder({ fitted: fit, charMax: 4 })).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
    expect(() => createHashingEmbedder({ fitted: { ...fit, weights: fit.weights.map(() => 2) } })).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
    expect(() => createHashingEmbedder({ fitted: { ...fit, keys: fit.keys.slice().reverse() } })).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
  });
});
