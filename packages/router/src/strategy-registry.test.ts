// Tests strategy specs, error messages and per-registry registration.

import { describe, expect, it } from 'vitest';
import { createStrategy, createStrategyRegistry } from './strategy-registry.js';
import { makeProfile, makeRouteInput } from './test-support.js';

const input = makeRouteInput([1, 0, 0], [makeProfile('math', [1, 0, 0]), makeProfile('code', [0, 1, 0]), makeProfile('team:a', [0, 0, 1])]);

describe('strategy registry', () => {
  it('parses every built-in form', () => {
    expect(createStrategy('paper').id).toBe('paper');
    expect(createStrategy('softmax').id).toBe('softmax:1');
    expect(createStrategy('softmax:0.5').id).toBe('softmax:0.5');
    expect(createStrategy('top-k:2').id).toBe('top-k:2:1');
    expect(createStrategy('top-k:2:0.25').id).toBe('top-k:2:0.25');
    expect(createStrategy('knn').id).toBe('knn:8');
    expect(createStrategy('knn:3').id).toBe('knn:3');
    expect(createStrategy('uniform').id).toBe('uniform');
    expect(createStrategy('base').id).toBe('base');
    expect(Array.from(createStrategy('fixed:code').doRoute(input).weights)).toEqual([0, 1, 0]);
    expect(Array.from(createStrategy('fixed:team:a').doRoute(input).weights)).toEqual([0, 0, 1]);
  });

  it('an unknown name is E_STRATEGY listing every valid form', () => {
    expect(() => createStrategy('magic')).toThrow(
      expect.objectContaining({
        code: 'E_STRATEGY',
        message: 'unknown routing strategy "magic"; valid strategies: paper, softmax[:T], top-k:<k>[:T], knn[:k], fixed:<adapter>, uniform, base',
      }),
    );
  });

  it('bad arguments are E_STRATEGY with the usage', () => {
    for (const spec of ['softmax:hot', 'softmax:0', 'softmax:-1', 'top-k', 'top-k:x', 'top-k:1.5', 'knn:0', 'paper:2', 'fixed:', 'uniform:1']) {
      expect(() => createStrategy(spec), spec).toThrow(expect.objectContaining({ code: 'E_STRATEGY' }));
    }
    expect(() => createStrategy('top-k')).toThrow(/top-k:<k>\[:T\]/);
  });

  it('register adds to one registry only; names are validated and not replaced', () => {
    const mine = createStrategyRegistry();
    const other = createStrategyRegistry();
    mine.register('first', () => ({ id: 'first', doRoute: ({ adapters }) => ({ adapters, weights: new Float32Array(adapters.length).fill(0).fill(1, 0, 1) }) }));
    expect(Array.from(mine.create('first').doRoute(input).weights)).toEqual([1, 0, 0]);
    expect(mine.has('first')).toBe(true);
    expect(other.has('first')).toBe(false);
    expect(() => other.create('first')).toThrow(expect.objectContaining({ code: 'E_STRATEGY' }));
    expect(() => mine.register('paper', () => createStrategy('paper'))).toThrow(expect.objectContaining({ code: 'E_STRATEGY' }));
    expect(() => mine.register('Bad Name', () => createStrategy('paper'))).toThrow(expect.objectContaining({ code: 'E_STRATEGY' }));
    expect(mine.usages().at(-1)).toBe('first');
  });
});
