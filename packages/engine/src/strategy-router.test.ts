import { buildProfile, createHashingEmbedder, createPaperStrategy } from '@lora-tle/router';
import { describe, expect, it } from 'vitest';
import { createStrategyRouter } from './strategy-router.js';

describe('createStrategyRouter', () => {
  it('embeds the context and applies the strategy to the profiles; refuses profiles of another embedder', async () => {
    const embedder = createHashingEmbedder({ dimension: 512 });
    const profiles = [
      await buildProfile({ adapter: 'math', embedder, texts: ['Question: 3 + 4 = ?\n\nAnswer: 7', 'Question: 10 - 2 = ?\n\nAnswer: 8'] }),
      await buildProfile({ adapter: 'reading', embedder, texts: ['Context:\nAnna lives in Rome.\n\nQuestion: Where does Anna live?\n\nAnswer: Rome'] }),
    ];
    const router = createStrategyRouter({ embedder, profiles, strategy: createPaperStrategy() });
    expect(router.adapters).toEqual(['math', 'reading']);
    const math = await router.route({ text: 'Question: 5 + 6 = ?\n\nAnswer:', tokenIds: [], step: 0 });
    const reading = await router.route({ text: 'Context:\nBo lives in Oslo.\n\nQuestion: Where does Bo live?\n\nAnswer:', tokenIds: [], step: 3 });
    expect(math.weights[0]!).toBeGreaterThan(math.weights[1]!);
    expect(reading.weights[1]!).toBeGreaterThan(reading.weights[0]!);
    expect(math.weights[0]! + math.weights[1]!).toBeCloseTo(1, 5);

    const other = createHashingEmbedder({ dimension: 256 });
    expect(() => createStrategyRouter({ embedder: other, profiles, strategy: createPaperStrategy() })).toThrowError(expect.objectContaining({ code: 'E_PROFILE_EMBEDDER' }));
  });
});
