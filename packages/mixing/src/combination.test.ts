import { describe, expect, it } from 'vitest';
import { bakedScales, mixCoefficients } from './combination.js';

describe('mixCoefficients', () => {
  const weights = new Float32Array([0.64, -0.25, 0]);

  it('cat and linear-peft0.4: a = w, b = 1', () => {
    for (const combination of ['cat', 'linear-peft0.4'] as const) {
      const { a, b } = mixCoefficients(weights, combination);
      expect(Array.from(a)).toEqual(Array.from(weights));
      expect(Array.from(b)).toEqual([1, 1, 1]);
    }
  });

  it('linear: a = sign(w)·√|w|, b = √|w|', () => {
    const { a, b } = mixCoefficients(weights, 'linear');
    expect(a[0]).toBeCloseTo(0.8, 6);
    expect(a[1]).toBeCloseTo(-0.5, 6);
    expect(a[2]).toBe(0);
    expect(b[0]).toBeCloseTo(0.8, 6);
    expect(b[1]).toBeCloseTo(0.5, 6);
    expect(b[2]).toBe(0);
  });

  it('refuses offline-only or unknown combinations and non-finite weights', () => {
    expect(() => mixCoefficients(weights, 'svd' as never)).toThrow(expect.objectContaining({ code: 'E_COMBINATION' }));
    expect(() => mixCoefficients(weights, 'ties' as never)).toThrow(expect.objectContaining({ code: 'E_COMBINATION' }));
    expect(() => mixCoefficients([Number.POSITIVE_INFINITY], 'cat')).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });
});

describe('bakedScales', () => {
  it('cat and linear-peft0.4 bake s on the A side', () => {
    expect(bakedScales('cat', 2.5)).toEqual({ aSide: 2.5, bSide: 1 });
    expect(bakedScales('linear-peft0.4', -2.5)).toEqual({ aSide: -2.5, bSide: 1 });
  });

  it('linear splits s as sign(s)√|s| on A and √|s| on B', () => {
    expect(bakedScales('linear', 4)).toEqual({ aSide: 2, bSide: 2 });
    expect(bakedScales('linear', -4)).toEqual({ aSide: -2, bSide: 2 });
  });

  it('linear coefficients times baked scales give PEFT factors sign(ws)√|ws| and √|ws|', () => {
    const weights = [0.7, -0.2, 0.5];
    const scalings = [2, 0.5, -3];
    const { a, b } = mixCoefficients(weights, 'linear');
    scalings.forEach((s, i) => {
      const k = weights[i]! * s;
      const { aSide, bSide } = bakedScales('linear', s);
      expect(a[i]! * aSide).toBeCloseTo(Math.sign(k) * Math.sqrt(Math.abs(k)), 6);
      expect(b[i]! * bSide).toBeCloseTo(Math.sqrt(Math.abs(k)), 6);
    });
  });
});
