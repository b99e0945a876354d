// Tests the transformers embedder offline on a tiny random BERT, and its loader errors.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTransformersEmbedder } from './transformers-embedder.js';
import { l2Norm } from './vector.js';

// A tiny random-weight BERT made by test-fixtures/make-tiny-bert.py; expected.json holds PyTorch's
// mean-pooled, L2-normalised embeddings of the same sentences (the independent reference).
const TINY_BERT = resolve(dirname(fileURLToPath(import.meta.url)), '../test-fixtures/tiny-bert');
const expected = JSON.parse(readFileSync(join(TINY_BERT, 'expected.json'), 'utf8')) as Array<{ text: string; embedding: number[] }>;

describe('transformers embedder', () => {
  it('loads a local ONNX sentence model offline and matches PyTorch mean pooling + L2 norm', async () => {
    const embedder = await createTransformersEmbedder({ modelDir: TINY_BERT });
    try {
      expect(embedder.id).toBe('transformers');
      expect(embedder.dimension).toBe(32);
      expect(embedder.settings).toMatchObject({ model: 'tiny-bert', dtype: 'fp32', pooling: 'mean', dimension: 32 });
      const vectors = await embedder.embed(expected.map((item) => item.text)); // one padded batch
      vectors.forEach((vector, row) => {
        expect(l2Norm(vector)).toBeCloseTo(1, 5);
        const reference = expected[row]!.embedding;
        for (let i = 0; i < 32; i++) expect(vector[i]).toBeCloseTo(reference[i]!, 4);
      });
      expect(await embedder.embed([])).toEqual([]);
    } finally {
      await embedder.dispose();
    }
  });

  it('without @huggingface/transformers: E_EMBEDDER telling how to install it', async () => {
    const missing = () => Promise.reject(new Error("Cannot find package '@huggingface/transformers'"));
    await expect(createTransformersEmbedder({ modelDir: TINY_BERT, loadLibrary: missing })).rejects.toMatchObject({
      code: 'E_EMBEDDER',
      message: expect.stringContaining('npm install @huggingface/transformers'),
    });
  });

  it('a directory that is not a local model: E_EMBEDDER, nothing downloaded', async () => {
    await expect(createTransformersEmbedder({ modelDir: join(TINY_BERT, 'absent-model') })).rejects.toMatchObject({
      code: 'E_EMBEDDER',
      message: expect.stringContaining('never downloaded'),
    });
    await expect(createTransformersEmbedder({ modelDir: TINY_BERT, dtype: 'q8' })).rejects.toMatchObject({ code: 'E_EMBEDDER' });
  });
});
