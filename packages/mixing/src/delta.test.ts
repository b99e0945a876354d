import { describe, expect, it } from 'vitest';
import type { Combination } from '@lora-tle/spec';
import { loraDelta, mixedDelta } from './delta.js';
import { randomLoraModule, relativeError } from './test-random.js';

const dims = { inFeatures: 6, outFeatures: 5 };
const equalRank = [
  randomLoraModule({ ...dims, rank: 3, scaling: 2, seed: 1 }),
  randomLoraModule({ ...dims, rank: 3, scaling: 0.5, seed: 2 }),
  randomLoraModule({ ...dims, rank: 3, scaling: 1 / Math.sqrt(3), seed: 3 }),
];
const combinations: Combination[] = ['cat', 'linear', 'linear-peft0.4'];

/** (Σ_j B_j)(s_i A_i): what PEFT 0.4.0 'linear' gives for a one-hot weight on adapter i. */
function peft04OneHot(i: number): Float32Array {
  const summedB = equalRank[0]!.b.map((_, k) => equalRank.reduce((sum, m) => sum + m.b[k]!, 0));
  return loraDelta({ ...equalRank[i]!, b: summedB });
}

describe('loraDelta', () => {
  it('computes s · B · A on a worked example', () => {
    // B (2, 1) = [1, 2]ᵀ, A (1, 2) = [3, 4], s = 0.5 → 0.5 · [[3, 4], [6, 8]]
    const delta = loraDelta({ module: 'm', rank: 1, alpha: 0.5, scaling: 0.5, a: new Float32Array([3, 4]), b: new Float32Array([1, 2]), inFeatures: 2, outFeatures: 2 });
    expect(Array.from(delta)).toEqual([1.5, 2, 3, 4]);
  });

  it('refuses NaN or infinite factor values', () => {
    const b = equalRank[0]!.b.slice();
    b[4] = Number.NaN;
    expect(() => loraDelta({ ...equalRank[0]!, b })).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });

  it('refuses factors whose length does not match rank and features', () => {
    const bad = { ...equalRank[0]!, a: new Float32Array(5) };
    expect(() => loraDelta(bad)).toThrow(expect.objectContaining({ code: 'E_ADAPTER_SHAPE' }));
  });
});

describe('mixedDelta equivalences', () => {
  it('one-hot weights give that adapter alone (cat, linear)', () => {
    for (const combination of ['cat', 'linear'] as const) {
      for (let i = 0; i < equalRank.length; i++) {
        const weights = equalRank.map((_, j) => (j === i ? 1 : 0));
        expect(relativeError(mixedDelta(equalRank, weights, combination), loraDelta(equalRank[i]!))).toBeLessThan(1e-6);
      }
    }
  });

  it('one-hot weights under linear-peft0.4 give (Σ_j B_j)(s_i A_i), NOT the adapter alone (the paper loop)', () => {
    for (let i = 0; i < equalRank.length; i++) {
      const weights = equalRank.map((_, j) => (j === i ? 1 : 0));
      const mixed = mixedDelta(equalRank, weights, 'linear-peft0.4');
      expect(relativeError(mixed, peft04OneHot(i))).toBeLessThan(1e-6);
      expect(relativeError(mixed, loraDelta(equalRank[i]!))).toBeGreaterThan(0.1);
    }
  });

  it('all-zero weights give ΔW = 0 (the base model)', () => {
    for (const combination of combinations) {
      expect(mixedDelta(equalRank, [0, 0, 0], combination).every((value) => value === 0)).toBe(true);
    }
  });

  it('permuting adapters together with their weights changes nothing', () => {
    const weights = [0.7, -0.2, 0.5];
    const order = [2, 0, 1];
    for (const combination of combinations) {
      const permuted = mixedDelta(order.map((i) => equalRank[i]!), order.map((i) => weights[i]!), combination);
      expect(relativeError(permuted, mixedDelta(equalRank, weights, combination))).toBeLessThan(1e-6);
    }
  });

  it('cat is the weighted sum Σ w_i s_i B_i A_i, for any ranks', () => {
    const mixedRanks = [2, 4, 1].map((rank, i) => randomLoraModule({ ...dims, rank, scaling: 1 + i, seed: 10 + i }));
    const weights = [0.3, -1.1, 0.6];
    const expected = new Float32Array(dims.inFeatures * dims.outFeatures);
    mixedRanks.forEach((module, i) => loraDelta(module).forEach((value, k) => (expected[k]! += weights[i]! * value)));
    expect(relativeError(mixedDelta(mixedRanks, weights, 'cat'), expected)).toBeLessThan(1e-6);
  });

  it('linear and linear-peft0.4 refuse unequal ranks with E_RANK_MISMATCH', () => {
    const unequal = [equalRank[0]!, randomLoraModule({ ...dims, rank: 2, scaling: 1, seed: 20 })];
    for (const combination of ['linear', 'linear-peft0.4'] as const) {
      expect(() => mixedDelta(unequal, [0.5, 0.5], combination)).toThrow(expect.objectContaining({ code: 'E_RANK_MISMATCH' }));
    }
  });

  it('refuses a weight count that differs from the adapter count', () => {
    expect(() => mixedDelta(equalRank, [1, 0], 'cat')).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });
});
