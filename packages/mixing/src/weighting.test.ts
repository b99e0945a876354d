import { describe, expect, it } from 'vitest';
import { paperWeights, softmax, topK } from './weighting.js';

function expectClose(actual: Float32Array, expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, digits));
}

describe('softmax', () => {
  it('matches torch.softmax(scores / temperature)', () => {
    // torch.softmax(tensor([1., 2., 3.]) / 0.5, 0)
    expectClose(softmax([1, 2, 3], 0.5), [0.015876239976466765, 0.11731042782619838, 0.8668133321973349]);
  });

  it('is uniform for equal scores and stable for huge ones', () => {
    expectClose(softmax([5, 5, 5, 5]), [0.25, 0.25, 0.25, 0.25]);
    expectClose(softmax([1000, 0]), [1, 0]);
  });

  it('refuses a non-positive temperature or non-finite scores', () => {
    expect(() => softmax([1, 2], 0)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => softmax([1, Number.NaN])).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => softmax([])).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });
});

describe('paperWeights', () => {
  it('boosts the first largest similarity by 4, then softmaxes (the original moe.py loop)', () => {
    // Python: s = [0.21, 0.65, 0.4, 0.65]; s[s.index(max(s))] *= 4.0; torch.softmax(s)
    expectClose(paperWeights([0.21, 0.65, 0.4, 0.65]), [0.068141007483016, 0.7436564724386732, 0.08239948588279687, 0.10580303419551394]);
  });

  it('makes a negative largest similarity smaller, as the original code did', () => {
    // Python: s = [-0.2, -0.1, -0.3]; s[1] *= 4 → [-0.2, -0.4, -0.3]
    expectClose(paperWeights([-0.2, -0.1, -0.3]), [0.3671654011109255, 0.3006096053557273, 0.3322249935333473]);
  });

  it('does not modify its input', () => {
    const similarities = new Float32Array([0.1, 0.9]);
    paperWeights(similarities);
    expect(Array.from(similarities)).toEqual([Math.fround(0.1), Math.fround(0.9)]);
  });
});

describe('topK', () => {
  it('keeps the k largest and renormalises them to sum 1', () => {
    expectClose(topK([0.1, 0.5, 0.3, 0.1], 2), [0, 0.625, 0.375, 0]);
  });

  it('breaks ties by lower index and k = N renormalises everything', () => {
    expectClose(topK([0.2, 0.4, 0.4], 1), [0, 1, 0]);
    expectClose(topK([1, 1, 2], 3), [0.25, 0.25, 0.5]);
  });

  it('refuses k out of range, negative kept weights and an all-zero selection', () => {
    expect(() => topK([0.5, 0.5], 0)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => topK([0.5, 0.5], 3)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => topK([0.5, 0.5], 1.5)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => topK([-1, -2], 2)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => topK([0, 0], 1)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });
});
