// Tests that the Router's incremental hashing path gives the same mixes as routing on full
// embeddings (an Embedder wrapper that hides createIncremental), for the similarity strategies and
// knn, with and without a token window, that a strategy reading `embedding` gets the right one, and
// that routeSync gives the same mixes without a promise where nothing needs waiting for.

import type { Embedder, RoutingContext, RoutingStrategy } from '@lora-tle/spec';
import { createUniformStrategy } from './fixed-strategies.js';
import { createPaperStrategy } from './similarity-strategies.js';
import { describe, expect, it } from 'vitest';
import { fitHashingEmbedder, type HashingEmbedder } from './hashing-embedder.js';
import { createRouter, type RouterOptions } from './router.js';
import { buildProfile } from './task-profile.js';

const TASKS = {
  math: ['Question: Tom has 5 apples and buys 7 more. How many apples?\n\nAnswer: 5 + 7 = 12\n#### 12', 'Question: 3 boxes hold 4 pens each. How many pens?\n\nAnswer: 3 * 4 = 12\n#### 12'],
  code: ['Write a function that adds two numbers.\n\nAnswer: function add(a, b) {\n  return a + b;\n}', 'Write a function that returns the max.\n\nAnswer: function max(a, b) {\n  return a > b ? a : b;\n}'],
  reading: ['Passage: The river rose after the storm, and the village moved uphill.\nQuestion: Why did the village move?\nAnswer: the river rose', 'Passage: Mia planted beans in May.\nQuestion: What did Mia plant?\nAnswer: beans'],
};
const CONTEXT = 'Question: Sam had 5 eggs and found 19 more.\n\nAnswer: function add(a, b) { return a + b; } The river rose; Mia planted beans. #### 24';
const TOKENS = CONTEXT.match(/\s*\S{1,3}/g)!; // crude "tokens" that split words
const decode = (ids: readonly number[]) => ids.map((id) => TOKENS[id]).join('');

/** The same embedder without createIncremental: the Router then embeds the full text every route. */
function fullOnly(embedder: HashingEmbedder): Embedder {
  return { id: embedder.id, settings: embedder.settings, dimension: embedder.dimension, embed: (texts) => embedder.embed(texts) };
}

async function setup() {
  const embedder = fitHashingEmbedder(TASKS, { dimension: 1024 });
  const profiles = await Promise.all(Object.entries(TASKS).map(([adapter, texts]) => buildProfile({ adapter, embedder, texts, bankSize: 2 })));
  return { embedder, profiles };
}

async function routeAlong(options: RouterOptions): Promise<Float32Array[]> {
  const router = createRouter(options);
  const mixes: Float32Array[] = [];
  for (let count = 1; count <= TOKENS.length; count++) {
    const tokenIds = Array.from({ length: count }, (_, id) => id);
    const mix = await router.route({ text: decode(tokenIds), tokenIds, step: count - 1 });
    mixes.push(mix!.weights);
  }
  return mixes;
}

describe('router with the incremental hashing embedding', () => {
  for (const [strategy, window] of [
    ['paper', undefined],
    ['softmax:0.2', undefined],
    ['top-k:2', undefined],
    ['paper', 5],
    ['knn:3', undefined],
  ] as const) {
    it(`gives the same mixes as full re-embeds at every token (${strategy}${window ? `, window ${window}` : ''})`, async () => {
      const { embedder, profiles } = await setup();
      const routingWindow = window === undefined ? {} : { window: { tokens: window, decode } };
      const incremental = await routeAlong({ embedder, profiles, strategy, ...routingWindow });
      const full = await routeAlong({ embedder: fullOnly(embedder), profiles, strategy, ...routingWindow });
      expect(incremental.length).toBe(TOKENS.length);
      incremental.forEach((weights, step) => weights.forEach((weight, i) => expect(Math.abs(weight - full[step]![i]!), `step ${step} adapter ${i}`).toBeLessThan(1e-6)));
      const math = full.at(12)!; // "Question: Sam had 5 eggs…" so far: a math context
      expect(math[0]).toBeGreaterThan(math[1]!);
    });
  }

  it('hands a strategy the embedding of its own step, even when read after later routes', async () => {
    const { embedder, profiles } = await setup();
    const seen: RoutingContext[] = [];
    const recording: RoutingStrategy = { id: 'recording', doRoute: ({ context, adapters }) => (seen.push(context), { adapters, weights: new Float32Array(adapters.length) }) };
    const router = createRouter({ embedder, profiles, strategy: recording });
    for (let count = 1; count <= 6; count++) {
      const tokenIds = Array.from({ length: count }, (_, id) => id);
      await router.route({ text: decode(tokenIds), tokenIds, step: count - 1 });
    }
    seen.forEach((context) => {
      const expected = embedder.embedOne(context.text);
      context.embedding.forEach((value, d) => expect(Math.abs(value - expected[d]!)).toBeLessThan(1e-6));
    });
  });

  it('routeSync gives the mixes route gives, synchronously; undefined where only route can; null on skipped steps', async () => {
    const { embedder, profiles } = await setup();
    for (const strategy of ['paper', 'top-k:2', 'knn:3']) {
      const viaRoute = await routeAlong({ embedder, profiles, strategy });
      const router = createRouter({ embedder, profiles, strategy });
      for (let count = 1; count <= TOKENS.length; count++) {
        const tokenIds = Array.from({ length: count }, (_, id) => id);
        const mix = router.routeSync({ text: decode(tokenIds), tokenIds, step: count - 1 });
        expect(mix).toBeInstanceOf(Object);
        expect([...mix!.weights], `${strategy} step ${count - 1}`).toEqual([...viaRoute[count - 1]!]);
      }
    }
    // full re-embeds are asynchronous (embed returns a promise): routeSync declines and does nothing
    const full = createRouter({ embedder: fullOnly(embedder), profiles });
    expect(full.routeSync({ text: CONTEXT, tokenIds: [0], step: 0 })).toBeUndefined();
    expect(full.lastMix).toBeNull();
    expect((await full.route({ text: CONTEXT, tokenIds: [0], step: 0 }))!.weights.length).toBe(3);
    // …unless the strategy reads no embedding
    const uniform = createRouter({ embedder: fullOnly(embedder), profiles, strategy: createUniformStrategy() });
    expect([...uniform.routeSync({ text: CONTEXT, tokenIds: [0], step: 0 })!.weights]).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    const everyOther = createRouter({ embedder, profiles, schedule: 'every:2' });
    expect(everyOther.routeSync({ text: 'Question:', tokenIds: [0], step: 0 })).not.toBeNull();
    expect(everyOther.routeSync({ text: 'Question: Sam', tokenIds: [0, 1], step: 1 })).toBeNull();
  });

  it('hands a similarity strategy the similarities directly: no RoutingContext is made', async () => {
    const { embedder, profiles } = await setup();
    const paper = createPaperStrategy();
    const noContext = { ...paper, doRoute: () => expect.unreachable('doRoute called on the incremental path') };
    const direct = await routeAlong({ embedder, profiles, strategy: noContext });
    const full = await routeAlong({ embedder: fullOnly(embedder), profiles, strategy: paper });
    direct.forEach((weights, step) => weights.forEach((weight, i) => expect(Math.abs(weight - full[step]![i]!), `step ${step}`).toBeLessThan(1e-6)));
  });
});
