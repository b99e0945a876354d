// Tests buildFittedProfiles: the fit covers every adapter's texts, each profile equals the one built
// by hand with that fitted embedder, and the router accepts the result and routes by task.

import { describe, expect, it } from 'vitest';
import { sameEmbedderRef } from './embedder-ref.js';
import { buildFittedProfiles } from './fitted-profiles.js';
import { fitHashingEmbedder } from './hashing-embedder.js';
import { createRouter } from './router.js';
import { buildProfile } from './task-profile.js';

const TEXTS = {
  math: ['Question: 2 + 3?\nAnswer: 2 + 3 = 5\n#### 5', 'Question: 4 + 4?\nAnswer: 4 + 4 = 8\n#### 8', 'Question: Ann has 3 pens and gets 2.\nAnswer: 3 + 2 = 5\n#### 5'],
  code: ['Write a JavaScript function add(a, b).\nAnswer: function add(a, b) { return a + b; }', 'Write a JavaScript function neg(a).\nAnswer: function neg(a) { return -a; }'],
};

describe('buildFittedProfiles', () => {
  it('fits over all adapters and builds each profile with that fit (same as by hand)', async () => {
    const progress: string[] = [];
    const { embedder, profiles } = await buildFittedProfiles({
      textsByAdapter: TEXTS,
      fit: { dimension: 512 },
      bankSize: 1,
      onProgress: ({ adapter, done, total }) => progress.push(`${adapter} ${done}/${total}`),
    });
    const byHand = fitHashingEmbedder(TEXTS, { dimension: 512 });
    expect(embedder.settings['fit']).toBe(byHand.settings['fit']);
    expect(profiles.map((profile) => profile.adapter)).toEqual(['math', 'code']);
    for (const profile of profiles) {
      expect(sameEmbedderRef(profile.embedder, byHand)).toBe(true);
      const expected = await buildProfile({ adapter: profile.adapter, embedder: byHand, texts: TEXTS[profile.adapter as keyof typeof TEXTS], bankSize: 1 });
      expect(Array.from(profile.mean)).toEqual(Array.from(expected.mean));
      expect(profile.count).toBe(expected.count);
      expect(profile.bank).toHaveLength(1);
    }
    expect(progress).toEqual(['math 3/3', 'code 2/2']);
  });

  it('gives a router that accepts its profiles and routes a math prompt to math', async () => {
    const { embedder, profiles } = await buildFittedProfiles({ textsByAdapter: TEXTS });
    const router = createRouter({ embedder, profiles, strategy: 'paper', schedule: 'token' });
    const mix = await router.route({ text: 'Question: 7 + 1?\nAnswer:', tokenIds: [], step: 0 });
    expect(router.adapters).toEqual(['math', 'code']);
    expect(mix!.weights[0]!).toBeGreaterThan(mix!.weights[1]!);
  });

  it('refuses no adapters and an adapter without texts', async () => {
    await expect(buildFittedProfiles({ textsByAdapter: {} })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    await expect(buildFittedProfiles({ textsByAdapter: { math: TEXTS.math, code: [] } })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });
});
