// Tests the docs example strategy and checks the doc shows its code verbatim.

import { readFileSync } from 'node:fs';
import { createHashingEmbedder, createRouter, createStrategyRegistry, buildProfile } from '@lora-tle/router';
import type { RoutingStrategy } from '@lora-tle/spec';
import { describe, expect, it } from 'vitest';
import { createConfidentStrategy, registerConfidentStrategy } from './example-confident-strategy.js';
import { makeProfile, makeRouteInput } from './test-support.js';

describe('docs example: a custom `confident` strategy', () => {
  it('is one-hot on the best adapter above the threshold, the base model below it', () => {
    const profiles = [makeProfile('math', [1, 0, 0]), makeProfile('code', [0, 1, 0])];
    const strategy = createConfidentStrategy(0.5) satisfies RoutingStrategy;
    expect(Array.from(strategy.doRoute(makeRouteInput([0.2, 1, 0], profiles)).weights)).toEqual([0, 1]); // cos ≈ 0.98 to code
    expect(Array.from(strategy.doRoute(makeRouteInput([0, 0, 1], profiles)).weights)).toEqual([0, 0]); // cos 0 to both
    expect(() => createConfidentStrategy(2)).toThrow(expect.objectContaining({ code: 'E_STRATEGY' }));
  });

  it('registers in a user registry and routes through createRouter by its spec', async () => {
    const registry = registerConfidentStrategy(createStrategyRegistry());
    expect(registry.usages()).toContain('confident:<min-similarity>');
    const embedder = createHashingEmbedder({ dimension: 1024 });
    const profiles = [
      await buildProfile({ adapter: 'math', embedder, texts: ['Question: 3 apples plus 4 apples?\n\nAnswer: 7', 'Question: 5 pens times 2?\n\nAnswer: 10'] }),
      await buildProfile({ adapter: 'code', embedder, texts: ['Write a function add(a, b).\n\nAnswer: return a + b;'] }),
    ];
    const router = createRouter({ embedder, profiles, strategy: 'confident:0.2', registry });
    const mix = await router.route({ text: 'Question: 6 apples plus 2 apples?\n\nAnswer:', tokenIds: [], step: 0 });
    expect(Array.from(mix!.weights)).toEqual([1, 0]);
    const strict = createRouter({ embedder, profiles, strategy: 'confident:0.99', registry });
    expect(Array.from((await strict.route({ text: 'Question: 6 apples plus 2 apples?\n\nAnswer:', tokenIds: [], step: 0 }))!.weights)).toEqual([0, 0]);
    expect(() => createRouter({ embedder, profiles, strategy: 'confident:0.2' })).toThrow(expect.objectContaining({ code: 'E_STRATEGY' })); // built-ins only
  });

  it('the code in docs/adding-a-routing-strategy.md is this file, verbatim', () => {
    const source = readFileSync(new URL('./example-confident-strategy.ts', import.meta.url), 'utf8');
    const doc = readFileSync(new URL('../../../docs/adding-a-routing-strategy.md', import.meta.url), 'utf8');
    const body = source.slice(source.indexOf('import {'));
    expect(doc).toContain(body.trim());
  });
});
