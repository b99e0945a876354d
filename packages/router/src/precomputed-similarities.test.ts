// Tests the routed context the Router hands to strategies: its known similarities equal the cosines
// of its embedding to the profile means; a spread copy keeps text, tokenIds, step and the embedding
// but not the known similarities (a strategy given a modified copy recomputes), and neither does a
// call with another profiles array; the similarities handed out are copies.

import { cosineSimilarities } from '@lora-tle/mixing';
import type { RouteInput, RoutingStrategy } from '@lora-tle/spec';
import { describe, expect, it } from 'vitest';
import { fitHashingEmbedder } from './hashing-embedder.js';
import { PrecomputedContext } from './precomputed-similarities.js';
import { createRouter } from './router.js';
import { profileSimilarities } from './similarity-strategies.js';
import { buildProfile } from './task-profile.js';

const TASKS = {
  math: ['Question: Tom has 5 apples and buys 7 more. How many apples?\n\nAnswer: 12', 'Question: 3 boxes hold 4 pens each. How many pens?\n\nAnswer: 12'],
  reading: ['Passage: The river rose after the storm.\nQuestion: What rose?\nAnswer: the river', 'Passage: Mia planted beans in May.\nQuestion: What did Mia plant?\nAnswer: beans'],
};

describe('the routed context', () => {
  it('knows its similarities; copies and other profile arrays recompute', async () => {
    const embedder = fitHashingEmbedder(TASKS, { dimension: 1024 });
    const profiles = await Promise.all(Object.entries(TASKS).map(([adapter, texts]) => buildProfile({ adapter, embedder, texts })));
    let seen: RouteInput | null = null;
    const capture: RoutingStrategy = {
      id: 'capture',
      doRoute(input) {
        seen = input;
        return { adapters: input.adapters, weights: Float32Array.of(0.5, 0.5) };
      },
    };
    const router = createRouter({ embedder, profiles, strategy: capture });
    const text = 'Question: Sam had 5 eggs and found 19 more. How many eggs?';
    await router.route({ text, tokenIds: [1, 2, 3], step: 0 });
    const input = seen as unknown as RouteInput;
    const { context } = input;
    expect(context).toBeInstanceOf(PrecomputedContext);

    const embedding = embedder.embedOne(text);
    const cosines = cosineSimilarities(embedding, profiles.map((profile) => profile.mean));
    const known = PrecomputedContext.similaritiesOf(context, input.profiles)!;
    known.forEach((value, i) => expect(value).toBeCloseTo(cosines[i]!, 5));
    known[0] = 42; // a copy: the next caller still gets the true value
    expect(PrecomputedContext.similaritiesOf(context, input.profiles)![0]).toBeCloseTo(cosines[0]!, 5);
    expect(PrecomputedContext.similaritiesOf(context, [...input.profiles])).toBeUndefined();

    const copy = { ...context };
    expect(copy.text).toBe(text);
    expect(copy.tokenIds).toEqual([1, 2, 3]);
    expect(copy.step).toBe(0);
    Array.from(copy.embedding).forEach((value, i) => expect(value).toBeCloseTo(embedding[i]!, 6));
    expect(PrecomputedContext.similaritiesOf(copy, input.profiles)).toBeUndefined();
    // a strategy given a copy with another embedding gets that embedding's cosines
    const other = embedder.embedOne('Passage: The storm came. Question: What came?');
    const recomputed = profileSimilarities({ ...input, context: { ...context, embedding: other } });
    const expected = cosineSimilarities(other, profiles.map((profile) => profile.mean));
    recomputed.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 6));
    expect(recomputed[1]).toBeGreaterThan(recomputed[0]!);
    await router.dispose();
  });
});
