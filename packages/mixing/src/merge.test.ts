import { describe, expect, it } from 'vitest';
import type { LoraAdapterConfig, LoraModuleWeights } from '@lora-tle/spec';
import { loraDelta, mixedDelta } from './delta.js';
import { jacobiSvd, matmul, matrix, transpose } from './linalg.js';
import { effectiveCombination, mergedAdapterConfig, mergedRank, mergeModule, prepareModuleMerge } from './merge.js';
import { randomLoraModule, relativeError } from './test-random.js';

const dims = { inFeatures: 7, outFeatures: 6 };
const equalRank = [2, 0.5, 1.3].map((scaling, i) => randomLoraModule({ ...dims, rank: 3, scaling, seed: 30 + i }));
const mixedRank = [2, 3, 1].map((rank, i) => randomLoraModule({ ...dims, rank, scaling: [2, 0.5, -1.5][i]!, seed: 40 + i }));
const weights = [0.7, -0.2, 0.5];

/** Σ w_i s_i B_i A_i formed densely (out, in), float64. */
function weightedSum(modules: readonly LoraModuleWeights[], w: readonly number[]): Float64Array {
  const out = new Float64Array(dims.inFeatures * dims.outFeatures);
  modules.forEach((module, i) => loraDelta(module).forEach((value, k) => (out[k]! += w[i]! * value)));
  return out;
}

describe('offline merge equals the run-time mixture', () => {
  it('cat, linear and linear-peft0.4 (ΔW of the merged adapter = mixedDelta)', () => {
    for (const combination of ['cat', 'linear', 'linear-peft0.4'] as const) {
      const merged = mergeModule(equalRank, weights, combination);
      expect(merged.scaling).toBe(1);
      expect(relativeError(loraDelta(merged), mixedDelta(equalRank, weights, combination))).toBeLessThan(1e-6);
    }
  });

  it('cat with mixed ranks stacks to r_new = Σ r_i and is exact', () => {
    const merged = mergeModule(mixedRank, weights, 'cat');
    expect(merged.rank).toBe(6);
    expect(relativeError(loraDelta(merged), weightedSum(mixedRank, weights))).toBeLessThan(1e-6);
  });

  it('cat pads with zeros up to a larger config-level rank', () => {
    const merged = mergeModule(mixedRank, weights, 'cat', { rank: 9 });
    expect([merged.rank, merged.alpha, merged.a.length]).toEqual([9, 9, 9 * dims.inFeatures]);
    expect(merged.a.subarray(6 * dims.inFeatures).every((value) => value === 0)).toBe(true);
    expect(relativeError(loraDelta(merged), weightedSum(mixedRank, weights))).toBeLessThan(1e-6);
  });
});

describe('svd merge', () => {
  it('with r_new ≥ Σ r_i reproduces Σ w_i s_i B_i A_i exactly', () => {
    const merged = mergeModule(mixedRank, weights, 'svd', { rank: 6 });
    expect(relativeError(loraDelta(merged), weightedSum(mixedRank, weights))).toBeLessThan(1e-6);
  });

  it('truncated equals the best rank-k approximation of the dense sum (independent dense SVD)', () => {
    const dense = matrix(dims.outFeatures, dims.inFeatures, weightedSum(mixedRank, weights));
    const { u, s, v } = jacobiSvd(dense);
    for (const rank of [1, 2, 4]) {
      const truncatedUs = matrix(dims.outFeatures, rank);
      const truncatedV = matrix(dims.inFeatures, rank);
      for (let j = 0; j < rank; j++) {
        for (let o = 0; o < dims.outFeatures; o++) truncatedUs.values[o * rank + j] = u.values[o * u.cols + j]! * s[j]!;
        for (let i = 0; i < dims.inFeatures; i++) truncatedV.values[i * rank + j] = v.values[i * v.cols + j]!;
      }
      const expected = matmul(truncatedUs, transpose(truncatedV)).values;
      const merged = mergeModule(mixedRank, weights, 'svd', { rank });
      expect(merged.rank).toBe(rank);
      expect(relativeError(loraDelta(merged), expected)).toBeLessThan(1e-5);
    }
  });

  it('defaults r_new to max r_i, and A_new has orthonormal rows (Vh)', () => {
    const merged = mergeModule(mixedRank, weights, 'svd');
    expect(merged.rank).toBe(3);
    const a = matrix(3, dims.inFeatures, merged.a);
    const gram = matmul(a, transpose(a)).values;
    [1, 0, 0, 0, 1, 0, 0, 0, 1].forEach((value, k) => expect(gram[k]).toBeCloseTo(value, 5));
  });

  it('clamps U·S and Vh into [−hi, hi] with hi their q-quantile', () => {
    const unclamped = mergeModule(mixedRank, weights, 'svd', { rank: 3 });
    const clamped = mergeModule(mixedRank, weights, 'svd-peft0.4', { rank: 3 });
    const all = [...clamped.b, ...clamped.a];
    const high = Math.max(...all);
    expect(all.every((value) => Math.abs(value) <= high + 1e-7)).toBe(true);
    const raw = [...unclamped.b, ...unclamped.a];
    expect(raw.filter((value, k) => value !== all[k]).length).toBeGreaterThan(0); // the top 1 % moved
    expect(raw.filter((value) => value > high).length).toBeLessThanOrEqual(Math.ceil(0.01 * raw.length));
  });
});

describe('merge equivalences (STYLE.md)', () => {
  it('one-hot weights give that adapter alone (cat, linear, svd with r_new ≥ r_i)', () => {
    for (const combination of ['cat', 'linear', 'svd'] as const) {
      for (let i = 0; i < equalRank.length; i++) {
        const oneHot = equalRank.map((_, j) => (j === i ? 1 : 0));
        const merged = mergeModule(equalRank, oneHot, combination);
        expect(relativeError(loraDelta(merged), loraDelta(equalRank[i]!)), `${combination} ${i}`).toBeLessThan(1e-5);
      }
    }
  });

  it('all-zero weights give ΔW = 0 for every combination', () => {
    for (const combination of ['cat', 'linear', 'linear-peft0.4', 'svd', 'svd-peft0.4'] as const) {
      expect(loraDelta(mergeModule(equalRank, [0, 0, 0], combination)).every((value) => value === 0), combination).toBe(true);
    }
  });

  it('permuting adapters with their weights leaves ΔW unchanged for every combination', () => {
    const order = [1, 2, 0];
    for (const combination of ['cat', 'linear', 'linear-peft0.4', 'svd', 'svd-peft0.4'] as const) {
      const reference = loraDelta(mergeModule(equalRank, weights, combination));
      const permuted = loraDelta(mergeModule(order.map((i) => equalRank[i]!), order.map((i) => weights[i]!), combination));
      expect(relativeError(permuted, reference), combination).toBeLessThan(1e-5);
    }
  });

  it('svd copes with Σ r_i larger than out and in (wide and tall stacks)', () => {
    const small = { inFeatures: 5, outFeatures: 4 };
    const many = [3, 3, 2].map((rank, i) => randomLoraModule({ ...small, rank, scaling: 1 + i, seed: 60 + i }));
    const w = [0.5, -0.7, 0.9];
    const exact = new Float64Array(20);
    many.forEach((module, i) => loraDelta(module).forEach((value, k) => (exact[k]! += w[i]! * value)));
    const full = mergeModule(many, w, 'svd', { rank: 4 }); // min(out, in) = 4: full rank
    expect(relativeError(loraDelta(full), exact)).toBeLessThan(1e-5);
    const padded = mergeModule(many, w, 'svd', { rank: 6 }); // more than available: zero padding
    expect(padded.rank).toBe(6);
    expect(relativeError(loraDelta(padded), exact)).toBeLessThan(1e-5);
  });
});

describe('merge rules', () => {
  it('linear and linear-peft0.4 refuse unequal ranks with E_RANK_MISMATCH', () => {
    for (const combination of ['linear', 'linear-peft0.4'] as const) {
      expect(() => mergeModule(mixedRank, weights, combination)).toThrow(expect.objectContaining({ code: 'E_RANK_MISMATCH' }));
    }
  });

  it('one adapter always merges linearly, as PEFT does', () => {
    expect(effectiveCombination(1, 'svd')).toBe('linear');
    expect(effectiveCombination(1, 'svd-peft0.4')).toBe('linear-peft0.4');
    expect(effectiveCombination(2, 'svd')).toBe('svd');
    const merged = mergeModule([mixedRank[1]!], [0.4], 'svd', { rank: 2 });
    expect(merged.rank).toBe(3);
    expect(relativeError(loraDelta(merged), weightedSum([mixedRank[1]!], [0.4]))).toBeLessThan(1e-6);
  });

  it('copies use_rslora into the merged scaling r_new / √r_new', () => {
    expect(mergeModule(equalRank, weights, 'cat', { useRslora: true }).scaling).toBeCloseTo(3, 12); // 9 / √9
  });

  it('refuses unknown combinations', () => {
    expect(() => mergeModule(equalRank, weights, 'ties' as never)).toThrow(expect.objectContaining({ code: 'E_COMBINATION' }));
  });
});

describe('prepareModuleMerge (one set of factors, many weightings)', () => {
  it('gives what mergeModule gives, weighting after weighting, for every combination', () => {
    const weightings = [weights, [0, 1, 0], [-0.3, 0.25, 2]];
    for (const combination of ['cat', 'linear', 'linear-peft0.4', 'svd', 'svd-peft0.4'] as const) {
      const merge = prepareModuleMerge(equalRank, combination);
      for (const w of weightings) expect(merge(w)).toEqual(mergeModule(equalRank, w, combination));
    }
  });

  it('checks the factors and options when prepared, and the weights on every call', () => {
    const corrupt = { ...equalRank[1]!, b: Float32Array.from(equalRank[1]!.b, (value, i) => (i === 4 ? Number.NaN : value)) };
    expect(() => prepareModuleMerge([equalRank[0]!, corrupt], 'cat')).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT', message: expect.stringContaining('B holds NaN at index 4') }));
    expect(() => prepareModuleMerge(mixedRank, 'linear')).toThrow(expect.objectContaining({ code: 'E_RANK_MISMATCH' }));
    expect(() => prepareModuleMerge(mixedRank, 'cat', { rank: 5 })).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT', message: expect.stringContaining('needs rank ≥ Σ r_i = 6') }));
    expect(() => prepareModuleMerge(equalRank, 'svd', { svdClamp: 1.5 })).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    const merge = prepareModuleMerge(equalRank, 'linear');
    expect(() => merge([0.5, 0.5])).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => merge([0.5, Number.NaN, 0])).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });
});

describe('mergedRank and mergedAdapterConfig', () => {
  const config = (r: number, rankPattern: Record<string, number> = {}): LoraAdapterConfig => ({
    r,
    loraAlpha: 2 * r,
    useRslora: false,
    rankPattern,
    alphaPattern: { v_proj: 3 },
    targetModules: ['q_proj', 'v_proj'],
    layersToTransform: null,
    baseModelNameOrPath: 'tiny',
    fanInFanOut: false,
    peftType: 'LORA',
  });

  it('uses max(r, rank_pattern) per adapter: cat sums, svd takes svdRank or the max', () => {
    const configs = [config(4), config(2, { q_proj: 6 }), config(4)];
    expect(mergedRank(configs, 'cat')).toBe(14);
    expect(mergedRank(configs, 'svd')).toBe(6);
    expect(mergedRank(configs, 'svd', 5)).toBe(5);
    expect(mergedRank(configs, 'svd', 0)).toBe(6); // PEFT: `svd_rank or max(...)`
    expect(() => mergedRank(configs, 'linear')).toThrow(expect.objectContaining({ code: 'E_RANK_MISMATCH' }));
    expect(mergedRank([config(4), config(4)], 'linear')).toBe(4);
  });

  it('gives the merged adapter r = lora_alpha = r_new, no patterns, united target modules', () => {
    const second = { ...config(4), targetModules: ['v_proj', 'o_proj'] };
    const merged = mergedAdapterConfig([config(4), second], 'cat');
    expect(merged).toMatchObject({ r: 8, loraAlpha: 8, rankPattern: {}, alphaPattern: {}, targetModules: ['q_proj', 'v_proj', 'o_proj'] });
    const regex = mergedAdapterConfig([{ ...config(4), targetModules: '.*q_proj' }, { ...config(4), targetModules: '.*v_proj' }], 'linear');
    expect(regex.targetModules).toBe('(.*q_proj)|(.*v_proj)');
  });
});
