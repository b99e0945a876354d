import { describe, expect, it } from 'vitest';
import { cosineSimilarities, cosineSimilarity } from './similarity.js';

describe('cosineSimilarity', () => {
  it('matches torch.nn.CosineSimilarity(dim=0, eps=1e-6) on a worked example', () => {
    // torch: CosineSimilarity(dim=0, eps=1e-6)(x, y) = 0.3368001282434232 (float64)
    expect(cosineSimilarity([0.3, -1.2, 0.5, 2.0], [1.0, 0.4, -0.7, 0.9])).toBeCloseTo(0.3368001282434232, 12);
  });

  it('is 1 for parallel, -1 for opposite and 0 for orthogonal vectors', () => {
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 2, 3], [-1, -2, -3])).toBeCloseTo(-1, 12);
    expect(cosineSimilarity([1, 0], [0, 5])).toBe(0);
  });

  it('clamps each norm at eps separately, like torch (zero vector gives 0)', () => {
    // torch: CosineSimilarity(eps=1e-6)([1e-7, 0], [1, 1]) = 1e-7 / (1e-6 · √2) = 0.0707…
    expect(cosineSimilarity([1e-7, 0], [1, 1])).toBeCloseTo(0.07071067811865474, 12);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
  });

  it('refuses vectors of different lengths with E_INVALID_ARGUMENT', () => {
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });
});

describe('cosineSimilarities', () => {
  it('returns one similarity per profile, in profile order', () => {
    const result = cosineSimilarities(new Float32Array([1, 0]), [new Float32Array([0, 1]), new Float32Array([3, 0]), new Float32Array([-1, 0])]);
    expect(Array.from(result)).toEqual([0, 1, -1]);
  });
});
