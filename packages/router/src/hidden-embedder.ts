// The `hidden` embedder: the base model's own pooled hidden state. The router stays free of backend
// imports, so the engine/CLI injects the function that runs the pack and returns one pooled hidden
// vector (H,) per text; this wrapper checks the shape and L2-normalises. The pack's source hash is
// part of the settings, so a profile made with another model is refused.

import { LoraTleError } from '@lora-tle/spec';
import type { Embedder } from '@lora-tle/spec';
import { normalizeL2InPlace } from './vector.js';

export interface HiddenEmbedderOptions {
  /** Runs the pack on each text and returns its pooled hidden state, (H,) per text. */
  embedHidden: (texts: readonly string[]) => Promise<Float32Array[]>;
  /** H, the model's hidden size. */
  dimension: number;
  /** Identifies the model pack (its source hash): profiles from another pack are refused. */
  packHash: string;
  /** How the hidden states were pooled (default 'mean'); recorded because it changes the vectors. */
  pooling?: string;
  /** Which layer was pooled (default -1: the last). */
  layer?: number;
}

export function createHiddenEmbedder(options: HiddenEmbedderOptions): Embedder {
  const { embedHidden, dimension, packHash, pooling = 'mean', layer = -1 } = options;
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new LoraTleError('E_EMBEDDER', `hidden embedder: dimension must be the model's hidden size (a positive integer), got ${dimension}`);
  }
  if (packHash === '') throw new LoraTleError('E_EMBEDDER', 'hidden embedder: packHash is empty; pass the model pack source hash from pack.json');
  return {
    id: 'hidden',
    settings: { packHash, dimension, pooling, layer },
    dimension,
    async embed(texts) {
      const vectors = await embedHidden(texts);
      if (vectors.length !== texts.length) {
        throw new LoraTleError('E_EMBEDDER', `hidden embedder: got ${vectors.length} hidden states for ${texts.length} texts`);
      }
      return vectors.map((vector) => {
        if (vector.length !== dimension) {
          throw new LoraTleError('E_EMBEDDER', `hidden embedder: a hidden state has ${vector.length} values, expected the hidden size ${dimension}`);
        }
        return normalizeL2InPlace(Float32Array.from(vector));
      });
    },
  };
}
