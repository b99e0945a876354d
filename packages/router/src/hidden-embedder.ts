// The `hidden` embedder: the base model's own pooled hidden state. The router stays free of backend
// imports, so the engine/CLI injects the function that runs the pack and returns one pooled hidden
// vector (H,) per text; this wrapper checks the shape and L2-normalises. When the engine also
// injects an incremental state (one that runs only the tokens appended since the last text), the
// embedder offers createIncremental and the router routes a growing context with it. The pack's
// source hash is part of the settings, so a profile made with another model is refused.

import { cosineSimilarities } from '@lora-tle/mixing';
import { LoraTleError } from '@lora-tle/spec';
import type { Embedder } from '@lora-tle/spec';
import type { IncrementalEmbedder, IncrementalUpdate } from './incremental-embedding.js';
import { normalizeL2InPlace } from './vector.js';

/** A growing text's pooled hidden state, kept up to date by running only what was appended. */
export interface IncrementalHiddenState {
  /** Move to `text`; afterwards mean() is embedHidden([text])[0], up to float rounding. */
  update(text: string): Promise<IncrementalUpdate>;
  /** The pooled hidden state (H,) of the current text, not normalised. */
  mean(): Float32Array;
  /** Releases the model cache it keeps; the next update starts over. */
  dispose?(): void;
}

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
  /** Makes an incremental state (the engine binds one to the loaded pack); without it, none. */
  createIncrementalState?: () => IncrementalHiddenState;
}

export function createHiddenEmbedder(options: HiddenEmbedderOptions & { createIncrementalState: () => IncrementalHiddenState }): Embedder & IncrementalEmbedder;
export function createHiddenEmbedder(options: HiddenEmbedderOptions): Embedder & Partial<IncrementalEmbedder>;
export function createHiddenEmbedder(options: HiddenEmbedderOptions): Embedder & Partial<IncrementalEmbedder> {
  const { embedHidden, dimension, packHash, pooling = 'mean', layer = -1, createIncrementalState } = options;
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new LoraTleError('E_EMBEDDER', `hidden embedder: dimension must be the model's hidden size (a positive integer), got ${dimension}`);
  }
  if (packHash === '') throw new LoraTleError('E_EMBEDDER', 'hidden embedder: packHash is empty; pass the model pack source hash from pack.json');
  const checked = (vector: Float32Array): Float32Array => {
    if (vector.length !== dimension) {
      throw new LoraTleError('E_EMBEDDER', `hidden embedder: a hidden state has ${vector.length} values, expected the hidden size ${dimension}`);
    }
    return normalizeL2InPlace(Float32Array.from(vector));
  };
  const embedder: Embedder & Partial<IncrementalEmbedder> = {
    id: 'hidden',
    settings: { packHash, dimension, pooling, layer },
    dimension,
    async embed(texts) {
      const vectors = await embedHidden(texts);
      if (vectors.length !== texts.length) {
        throw new LoraTleError('E_EMBEDDER', `hidden embedder: got ${vectors.length} hidden states for ${texts.length} texts`);
      }
      return vectors.map(checked);
    },
  };
  if (createIncrementalState) {
    embedder.createIncremental = (profiles) => {
      const state = createIncrementalState();
      let current: Float32Array | null = null; // embedding of the current text, made once per update
      const embedding = (): Float32Array => (current ??= checked(state.mean()));
      return {
        async update(text) {
          current = null;
          return state.update(text);
        },
        similarities: () => cosineSimilarities(embedding(), profiles),
        embedding: () => Float32Array.from(embedding()),
        dispose: () => state.dispose?.(),
      };
    };
  }
  return embedder;
}
