// Tests the built-in strategies on hand-made vectors: sums, top-k counts, knn votes, errors.

import { cosineSimilarities, paperWeights } from '@lora-tle/mixing';
import type { RoutingStrategy } from '@lora-tle/spec';
import { describe, expect, it } from 'vitest';
import { createBaseStrategy, createFixedStrategy, createUniformStrategy } from './fixed-strategies.js';
import { createKnnStrategy } from './knn-strategy.js';
import { createPaperStrategy, createSoftmaxStrategy, createTopKStrategy } from './similarity-strategies.js';
import { makeProfile, makeRouteInput, sum } from './test-support.js';

const profiles = [makeProfile('math', [1, 0, 0]), makeProfile('code', [0, 1, 0]), makeProfile('science', [0, 0, 1]), makeProfile('reading', [1, 1, 1])];
const input = makeRouteInput([0.9, 0.3, 0.1], profiles);

describe('similarity strategies', () => {
  it('paper: equals mixing paperWeights over cosine similarities and sums to 1', () => {
    const mix = createPaperStrategy().doRoute(input);
    const expected = paperWeights(cosineSimilarities(input.context.embedding, profiles.map((profile) => profile.mean)));
    expect(Array.from(mix.weights)).toEqual(Array.from(expected));
    expect(mix.adapters).toEqual(['math', 'code', 'science', 'reading']);
    expect(sum(mix.weights)).toBeCloseTo(1, 6);
    // by hand: similarities ≈ [0.943, 0.314, 0.105, 0.756]; math boosted ×4 → the largest weight.
    expect(mix.weights.indexOf(Math.max(...mix.weights))).toBe(0);
  });

  it('softmax: sums to 1; lower temperature sharpens towards the nearest profile', () => {
    const warm = createSoftmaxStrategy({ temperature: 1 }).doRoute(input).weights;
    const cold = createSoftmaxStrategy({ temperature: 0.05 }).doRoute(input).weights;
    expect(sum(warm)).toBeCloseTo(1, 6);
    expect(sum(cold)).toBeCloseTo(1, 6);
    expect(cold[0]!).toBeGreaterThan(warm[0]!);
    expect(cold[0]!).toBeGreaterThan(0.95);
  });

  it('top-k: exactly k non-zeros, the k most similar, renormalised to 1', () => {
    for (const k of [1, 2, 3, 4]) {
      const weights = createTopKStrategy({ k }).doRoute(input).weights;
      expect(Array.from(weights).filter((weight) => weight > 0).length).toBe(k);
      expect(sum(weights)).toBeCloseTo(1, 6);
    }
    const two = createTopKStrategy({ k: 2 }).doRoute(input).weights;
    expect(two[0]! > 0 && two[3]! > 0).toBe(true); // math and reading are the two most similar
    expect(() => createTopKStrategy({ k: 5 }).doRoute(input)).toThrow(expect.objectContaining({ code: 'E_STRATEGY' }));
    expect(() => createTopKStrategy({ k: 0 })).toThrow(expect.objectContaining({ code: 'E_STRATEGY' }));
  });
});

describe('knn', () => {
  const banked = [
    makeProfile('math', [1, 0, 0], [[1, 0, 0], [0.9, 0.1, 0], [0.8, 0, 0.2]]),
    makeProfile('code', [0, 1, 0], [[0, 1, 0], [0.7, 0.7, 0]]),
  ];

  it('weights are each adapter’s share of the k nearest bank examples', () => {
    const query = makeRouteInput([1, 0.05, 0], banked);
    // nearest 4: math[0], math[1], math[2]? cos(q, [0.8,0,0.2]) ≈ 0.969, cos(q,[0.7,0.7,0]) ≈ 0.742 → 3 math + 1 code
    const weights = createKnnStrategy({ k: 4 }).doRoute(query).weights;
    expect(Array.from(weights)).toEqual([Math.fround(0.75), Math.fround(0.25)]);
    expect(Array.from(createKnnStrategy({ k: 1 }).doRoute(query).weights)).toEqual([1, 0]);
    // k larger than the banks: every example votes once.
    const all = createKnnStrategy({ k: 50 }).doRoute(query).weights;
    expect(all[0]).toBeCloseTo(0.6, 6);
    expect(all[1]).toBeCloseTo(0.4, 6);
  });

  it('refuses profiles without a bank, saying how to build one', () => {
    expect(() => createKnnStrategy().doRoute(input)).toThrow(expect.objectContaining({ code: 'E_STRATEGY', message: expect.stringContaining('--bank') }));
  });
});

describe('context-free strategies', () => {
  it('fixed:<adapter> is one-hot; an unknown adapter is E_UNKNOWN_ADAPTER naming the loaded ones', () => {
    expect(Array.from(createFixedStrategy('science').doRoute(input).weights)).toEqual([0, 0, 1, 0]);
    expect(() => createFixedStrategy('poetry').doRoute(input)).toThrow(
      expect.objectContaining({ code: 'E_UNKNOWN_ADAPTER', message: expect.stringContaining('math, code, science, reading') }),
    );
  });

  it('uniform is 1/N, base is all zeros', () => {
    expect(Array.from(createUniformStrategy().doRoute(input).weights)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(Array.from(createBaseStrategy().doRoute(input).weights)).toEqual([0, 0, 0, 0]);
  });

  it('every built-in satisfies RoutingStrategy', () => {
    const strategies = [createPaperStrategy(), createBaseStrategy(), createKnnStrategy()] satisfies RoutingStrategy[];
    expect(strategies.map((strategy) => strategy.id)).toEqual(['paper', 'base', 'knn:8']);
  });
});
