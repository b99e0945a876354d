// Tests buildSuiteProfiles: by default the hashing embedder is fitted over every adapter's training
// texts (the same fit as fitting by hand) and returned with profiles made by it; an explicit
// embedder is used as given; each profile keeps an example bank (so `knn` can route on the suite)
// unless bankSize is 0; an adapter without training data is refused.

import { createHashingEmbedder, createRouter, fitHashingEmbedder, sameEmbedderRef } from '@lora-tle/router';
import { describe, expect, it } from 'vitest';
import type { EvalSuite } from './suite.js';
import { buildSuiteProfiles } from './suite-profiles.js';

const SUITE: EvalSuite = {
  name: 'tiny',
  tasks: [
    { name: 'math', kind: 'math', template: 'gsm8k', items: [], trainTexts: ['Question: 2 + 3?\nAnswer: #### 5', 'Question: 4 + 1?\nAnswer: #### 5'] },
    { name: 'code', kind: 'code', template: 'codealpaca', items: [], trainTexts: ['Write add(a, b).\nfunction add(a, b) { return a + b; }'] },
  ],
};

describe('buildSuiteProfiles', () => {
  it('fits the hashing embedder over all adapters by default and routes-ready profiles use that fit', async () => {
    const { embedder, profiles } = await buildSuiteProfiles({ suite: SUITE, adapters: ['code', 'math'] });
    const byHand = fitHashingEmbedder({ code: SUITE.tasks[1]!.trainTexts, math: SUITE.tasks[0]!.trainTexts });
    expect(embedder.settings['fit']).toBe(byHand.settings['fit']);
    expect(profiles.map((profile) => profile.adapter)).toEqual(['code', 'math']);
    for (const profile of profiles) expect(sameEmbedderRef(profile.embedder, byHand)).toBe(true);
  });

  it('uses an explicit embedder as given', async () => {
    const unfitted = createHashingEmbedder();
    const { embedder, profiles } = await buildSuiteProfiles({ suite: SUITE, adapters: ['math'], embedder: unfitted });
    expect(embedder).toBe(unfitted);
    expect(profiles[0]!.embedder.settings['fit']).toBeUndefined();
    expect(profiles[0]!.count).toBe(2);
  });

  it('keeps an example bank per profile by default, so knn routes on the suite; bankSize 0 keeps none', async () => {
    const { embedder, profiles } = await buildSuiteProfiles({ suite: SUITE, adapters: ['code', 'math'] });
    expect(profiles.map((profile) => profile.bank?.length)).toEqual([1, 2]); // min(64, texts)
    const [mathExample] = await embedder.embed([SUITE.tasks[0]!.trainTexts[1]!]);
    expect(Array.from(profiles[1]!.bank![1]!)).toEqual(Array.from(mathExample!));
    const router = createRouter({ embedder, profiles, adapters: ['code', 'math'], strategy: 'knn:2', schedule: 'prompt' });
    const mix = await router.route({ text: 'Question: 4 + 1?\nAnswer:', tokenIds: [], step: 0 });
    expect(Array.from(mix!.weights)).toEqual([0, 1]); // both math examples are the 2 nearest
    await router.dispose();
    const bare = await buildSuiteProfiles({ suite: SUITE, adapters: ['math'], bankSize: 0 });
    expect(bare.profiles[0]!.bank).toBeUndefined();
  });

  it('refuses an adapter with no training data', async () => {
    await expect(buildSuiteProfiles({ suite: SUITE, adapters: ['math', 'reading'] })).rejects.toMatchObject({ code: 'E_PROFILE_MISSING' });
  });
});
