// Tests profile building (mean, bank, progress) and the embedder-mismatch refusal.

import { describe, expect, it } from 'vitest';
import { createHashingEmbedder } from './hashing-embedder.js';
import { buildProfile, selectProfiles } from './task-profile.js';

describe('buildProfile', () => {
  const embedder = createHashingEmbedder({ dimension: 256 });
  const texts = Array.from({ length: 10 }, (_, i) => `Question: example number ${i} about apples.\n\nAnswer: ${i * 3}`);

  it('is the mean of the example embeddings, with the embedder ref and count', async () => {
    const progress: number[] = [];
    const profile = await buildProfile({ adapter: 'math', embedder, texts, batchSize: 3, onProgress: ({ done }) => progress.push(done) });
    const vectors = texts.map((text) => embedder.embedOne(text));
    for (const i of [0, 17, 255]) {
      expect(profile.mean[i]).toBeCloseTo(vectors.reduce((total, vector) => total + vector[i]!, 0) / 10, 6);
    }
    expect(profile).toMatchObject({ adapter: 'math', count: 10, embedder: { id: 'hashing', settings: embedder.settings } });
    expect(profile.bank).toBeUndefined();
    expect(progress).toEqual([3, 6, 9, 10]);
  });

  it('keeps a bank of evenly spaced examples, the same every time', async () => {
    const profile = await buildProfile({ adapter: 'math', embedder, texts, bankSize: 4 });
    // indices floor(j·10/4) = 0, 2, 5, 7
    expect(profile.bank?.map((vector) => Array.from(vector))).toEqual([0, 2, 5, 7].map((i) => Array.from(embedder.embedOne(texts[i]!))));
    const all = await buildProfile({ adapter: 'math', embedder, texts: texts.slice(0, 3), bankSize: 50 });
    expect(all.bank?.length).toBe(3);
  });

  it('refuses empty input and bad sizes', async () => {
    await expect(buildProfile({ adapter: 'math', embedder, texts: [] })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    await expect(buildProfile({ adapter: 'math', embedder, texts, bankSize: -1 })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    await expect(buildProfile({ adapter: 'math', embedder, texts, batchSize: 0 })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });
});

describe('selectProfiles', () => {
  it('orders profiles by adapter; missing → E_PROFILE_MISSING', async () => {
    const embedder = createHashingEmbedder({ dimension: 64 });
    const math = await buildProfile({ adapter: 'math', embedder, texts: ['1 + 1'] });
    const code = await buildProfile({ adapter: 'code', embedder, texts: ['x = 1'] });
    expect(selectProfiles([math, code], ['code', 'math'], embedder).map((profile) => profile.adapter)).toEqual(['code', 'math']);
    expect(() => selectProfiles([math], ['math', 'code'], embedder)).toThrow(
      expect.objectContaining({ code: 'E_PROFILE_MISSING', message: expect.stringContaining('lora-tle profile code --embedder hashing') }),
    );
  });

  it('refuses a profile made by another embedder or other settings, saying how to rebuild it', async () => {
    const made = await buildProfile({ adapter: 'math', embedder: createHashingEmbedder({ dimension: 64 }), texts: ['1 + 1'] });
    const otherSettings = createHashingEmbedder({ dimension: 64, charMax: 4 });
    expect(() => selectProfiles([made], ['math'], otherSettings)).toThrow(
      expect.objectContaining({
        code: 'E_PROFILE_EMBEDDER',
        message: expect.stringMatching(/other hashing settings \(charMax: profile 6, router 4\).*lora-tle profile math --embedder hashing/),
      }),
    );
    const otherId = { id: 'transformers', settings: { model: 'all-MiniLM-L6-v2' }, dimension: 64, embed: async () => [] };
    expect(() => selectProfiles([made], ['math'], otherId)).toThrow(
      expect.objectContaining({ code: 'E_PROFILE_EMBEDDER', message: expect.stringContaining('made by embedder "hashing" but the router uses "transformers"') }),
    );
    const truncated = { ...made, mean: made.mean.subarray(0, 32) };
    expect(() => selectProfiles([truncated], ['math'], createHashingEmbedder({ dimension: 64 }))).toThrow(expect.objectContaining({ code: 'E_PROFILE_EMBEDDER' }));
  });
});
