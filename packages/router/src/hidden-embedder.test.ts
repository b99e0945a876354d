// Tests the hidden-state embedder wrapper: delegation, normalisation, shape errors.

import { describe, expect, it } from 'vitest';
import { createHiddenEmbedder } from './hidden-embedder.js';
import { l2Norm } from './vector.js';

describe('hidden embedder', () => {
  it('delegates to the injected function and L2-normalises; the pack hash is in the ref', async () => {
    const seen: string[][] = [];
    const embedder = createHiddenEmbedder({
      dimension: 2,
      packHash: 'abc123',
      embedHidden: async (texts) => (seen.push([...texts]), texts.map((text) => Float32Array.from([text.length, 0]))),
    });
    expect(embedder).toMatchObject({ id: 'hidden', dimension: 2, settings: { packHash: 'abc123', dimension: 2, pooling: 'mean', layer: -1 } });
    const vectors = await embedder.embed(['abc', 'de']);
    expect(seen).toEqual([['abc', 'de']]);
    expect(vectors.map((vector) => Array.from(vector))).toEqual([[1, 0], [1, 0]]);
    const [tilted] = await createHiddenEmbedder({ dimension: 2, packHash: 'p', embedHidden: async () => [Float32Array.from([3, 4])] }).embed(['x']);
    expect(l2Norm(tilted!)).toBeCloseTo(1, 6);
  });

  it('refuses wrong shapes and missing identity with E_EMBEDDER', async () => {
    const wrongSize = createHiddenEmbedder({ dimension: 3, packHash: 'p', embedHidden: async () => [new Float32Array(2)] });
    await expect(wrongSize.embed(['x'])).rejects.toMatchObject({ code: 'E_EMBEDDER' });
    const wrongCount = createHiddenEmbedder({ dimension: 2, packHash: 'p', embedHidden: async () => [] });
    await expect(wrongCount.embed(['x'])).rejects.toMatchObject({ code: 'E_EMBEDDER' });
    expect(() => createHiddenEmbedder({ dimension: 0, packHash: 'p', embedHidden: async () => [] })).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
    expect(() => createHiddenEmbedder({ dimension: 2, packHash: '', embedHidden: async () => [] })).toThrow(expect.objectContaining({ code: 'E_EMBEDDER' }));
  });
});
