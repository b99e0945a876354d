import { describe, expect, it } from 'vitest';
import { argmax, createSampler, mulberry32, resolveSampling, sampleFiltered } from './sampling.js';

const logits = Float32Array.from([1, 3, 2, 0.5, 3]);

describe('sampling', () => {
  it('greedy picks the largest logit, the lowest index on ties', () => {
    expect(argmax(logits)).toBe(1);
    expect(createSampler().sample(logits)).toBe(1);
  });

  it('rejects out-of-range settings with E_SAMPLING', () => {
    for (const bad of [{ temperature: -0.1 }, { topP: 0 }, { topP: 1.5 }, { topK: -1 }, { topK: 1.5 }, { seed: -1 }]) {
      expect(() => resolveSampling(bad)).toThrowError(expect.objectContaining({ code: 'E_SAMPLING' }));
    }
    expect(resolveSampling({ topP: 1, topK: 0, temperature: 0 })).toEqual({ temperature: 0, topK: 0, topP: 1, seed: 0 });
  });

  it('mulberry32 is a deterministic uniform stream', () => {
    const first = mulberry32(7);
    const second = mulberry32(7);
    const draws = Array.from({ length: 2000 }, () => first());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => second()));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((sum, value) => sum + value, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
  });

  it('maps a draw onto the softmax CDF over tokens sorted by probability', () => {
    const settings = { temperature: 1, topK: 0, topP: 1, seed: 0 };
    // p ∝ exp(logit); sorted order: 1, 4 (tie, lower index first), 2, 0, 3
    const weights = [1, 3, 2, 0.5, 3].map(Math.exp);
    const total = weights.reduce((sum, value) => sum + value, 0);
    const pTop = weights[1]! / total;
    expect(sampleFiltered(logits, settings, 0)).toBe(1);
    expect(sampleFiltered(logits, settings, pTop * 0.999)).toBe(1);
    expect(sampleFiltered(logits, settings, pTop * 1.001)).toBe(4);
    expect(sampleFiltered(logits, settings, 0.9999)).toBe(3);
  });

  it('top-k and top-p restrict the candidates', () => {
    const onlyTwo = { temperature: 1, topK: 2, topP: 1, seed: 0 };
    expect(sampleFiltered(logits, onlyTwo, 0.9999)).toBe(4);
    // p = (0.387, 0.387, 0.142, 0.052, 0.032) sorted: top-p 0.3 keeps one, 0.7 two, 0.8 three
    expect(sampleFiltered(logits, { ...onlyTwo, topK: 0, topP: 0.3 }, 0.9999)).toBe(1);
    expect(sampleFiltered(logits, { ...onlyTwo, topK: 0, topP: 0.7 }, 0.9999)).toBe(4);
    expect(sampleFiltered(logits, { ...onlyTwo, topK: 0, topP: 0.8 }, 0.9999)).toBe(2);
  });

  it('low temperature concentrates, same seed repeats, the draws follow the distribution', () => {
    const cold = createSampler({ temperature: 0.01, seed: 3 });
    const coldPicks = new Set(Array.from({ length: 50 }, () => cold.sample(Float32Array.from([0, 2, 1]))));
    expect([...coldPicks]).toEqual([1]);
    const run = (seed: number) => {
      const sampler = createSampler({ temperature: 1, seed });
      return Array.from({ length: 3000 }, () => sampler.sample(Float32Array.from([0, Math.log(3)])));
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
    const share = run(11).filter((token) => token === 1).length / 3000; // p = 3/4
    expect(Math.abs(share - 0.75)).toBeLessThan(0.03);
  });
});
