// Tests the Router: routing direction, schedules, windows, context-free strategies, refusals.

import type { Embedder } from '@lora-tle/spec';
import { describe, expect, it } from 'vitest';
import { windowContext } from './context-window.js';
import { createHashingEmbedder } from './hashing-embedder.js';
import { createRouter } from './router.js';
import { createStrategyRegistry } from './strategy-registry.js';
import { buildProfile } from './task-profile.js';

const MATH = ['Question: Tom has 5 apples and buys 7 more. How many apples?\n\nAnswer: 5 + 7 = 12\n#### 12', 'Question: 3 boxes hold 4 pens each. How many pens?\n\nAnswer: 3 * 4 = 12\n#### 12'];
const CODE = ['Write a function that adds two numbers.\n\nAnswer: function add(a, b) {\n  return a + b;\n}', 'Write a function that returns the max.\n\nAnswer: function max(a, b) {\n  return a > b ? a : b;\n}'];

/** Wraps an embedder and records what it was asked to embed. */
function spyEmbedder(inner: Embedder): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return { id: inner.id, settings: inner.settings, dimension: inner.dimension, calls, embed: (texts) => (calls.push([...texts]), inner.embed(texts)) };
}

async function setup() {
  const embedder = spyEmbedder(createHashingEmbedder({ dimension: 1024 }));
  const profiles = [await buildProfile({ adapter: 'math', embedder, texts: MATH }), await buildProfile({ adapter: 'code', embedder, texts: CODE })];
  embedder.calls.length = 0;
  return { embedder, profiles };
}

describe('router', () => {
  it('routes a math context to math and a code context to code (paper strategy by default)', async () => {
    const { embedder, profiles } = await setup();
    const router = createRouter({ embedder, profiles });
    const math = await router.route({ text: 'Question: Ann has 9 apples and eats 2. How many apples are left?\n\nAnswer:', tokenIds: [], step: 0 });
    expect(math?.adapters).toEqual(['math', 'code']);
    expect(math!.weights[0]!).toBeGreaterThan(math!.weights[1]!);
    const code = await router.route({ text: 'Write a function that returns the min.\n\nAnswer: function min(a, b) {', tokenIds: [], step: 1 });
    expect(code!.weights[1]!).toBeGreaterThan(code!.weights[0]!);
    expect(router.lastMix).toBe(code);
  });

  it('follows the schedule: null (keep the previous mix) between routing steps, no embedding then', async () => {
    const { embedder, profiles } = await setup();
    const router = createRouter({ embedder, profiles, schedule: 'every:2' });
    const results = [];
    for (let step = 0; step < 5; step++) results.push(await router.route({ text: `context ${step}`, tokenIds: [], step }));
    expect(results.map((mix) => mix !== null)).toEqual([true, false, true, false, true]);
    expect(embedder.calls.length).toBe(3);
    router.reset();
    expect(router.lastMix).toBeNull();
    expect(await router.route({ text: 'later', tokenIds: [], step: 7 })).not.toBeNull(); // no previous mix: route anyway
  });

  it('embeds only the last W tokens when a window is set', async () => {
    const { embedder, profiles } = await setup();
    const decode = (ids: readonly number[]) => ids.map((id) => `t${id}`).join(' ');
    const router = createRouter({ embedder, profiles, window: { tokens: 2, decode } });
    await router.route({ text: 'whole text', tokenIds: [1, 2, 3, 4], step: 0 });
    await router.route({ text: 'short', tokenIds: [1, 2], step: 1 });
    expect(embedder.calls).toEqual([['t3 t4'], ['short']]);
    expect(windowContext('abc', [1, 2, 3], undefined)).toBe('abc');
    expect(() => windowContext('abc', [1, 2, 3], 2)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    expect(() => windowContext('abc', [1, 2, 3], 0, decode)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });

  it('skips the embedder for context-free strategies and takes strategy specs and custom registries', async () => {
    const { embedder, profiles } = await setup();
    const fixed = createRouter({ embedder, profiles, strategy: 'fixed:code', adapters: ['code', 'math'] });
    expect(Array.from((await fixed.route({ text: 'x', tokenIds: [], step: 0 }))!.weights)).toEqual([1, 0]);
    expect(embedder.calls.length).toBe(0);
    const registry = createStrategyRegistry().register('last', () => ({
      id: 'last',
      doRoute: ({ adapters }) => ({ adapters, weights: Float32Array.from(adapters, (_, i) => (i === adapters.length - 1 ? 1 : 0)) }),
    }));
    const custom = createRouter({ embedder, profiles, strategy: 'last', registry });
    expect(Array.from((await custom.route({ text: 'x', tokenIds: [], step: 0 }))!.weights)).toEqual([0, 1]);
  });

  it('refuses at creation: profiles of another embedder, a missing profile, an unknown strategy or schedule', async () => {
    const { profiles } = await setup();
    const other = createHashingEmbedder({ dimension: 512 });
    expect(() => createRouter({ embedder: other, profiles })).toThrow(expect.objectContaining({ code: 'E_PROFILE_EMBEDDER' }));
    const { embedder } = await setup();
    expect(() => createRouter({ embedder, profiles, adapters: ['math', 'science'] })).toThrow(expect.objectContaining({ code: 'E_PROFILE_MISSING' }));
    expect(() => createRouter({ embedder, profiles, strategy: 'best' })).toThrow(expect.objectContaining({ code: 'E_STRATEGY' }));
    expect(() => createRouter({ embedder, profiles, schedule: 'sometimes' })).toThrow(expect.objectContaining({ code: 'E_SCHEDULE' }));
  });
});
