// Routing: embedders turn context into vectors, profiles describe each adapter's task, strategies
// turn the two into an AdapterMix. New strategies implement RoutingStrategy; the engine needs no change.

import type { AdapterMix } from './mix.js';

/** Identity of an embedder: profiles made by one are refused by another. */
export interface EmbedderRef {
  id: string; // 'hashing' | 'transformers' | 'hidden' | custom
  /** Everything that changes the vectors (dimension, n-gram sizes, model path and hash, pooling…). */
  settings: Record<string, string | number | boolean>;
}

export interface Embedder extends EmbedderRef {
  readonly dimension: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>; // each (dimension,), L2-normalised
}

/** The routing profile of one adapter under one embedder. */
export interface TaskProfile {
  adapter: string;
  embedder: EmbedderRef;
  mean: Float32Array; // (dimension,) mean embedding of formatted training examples
  count: number; // examples averaged
  bank?: Float32Array[]; // optional example embeddings for k-nearest routing
}

export interface RoutingContext {
  text: string; // the text the embedder sees (already windowed)
  tokenIds: readonly number[];
  embedding: Float32Array; // embedding of `text`
  step: number; // 0 at the prompt, then one per generated token
}

export interface RouteInput {
  context: RoutingContext;
  profiles: readonly TaskProfile[]; // one per adapter, pack order
  adapters: readonly string[];
}

export interface RoutingStrategy {
  readonly id: string; // 'paper', 'softmax', 'top-k', 'knn', 'fixed:<adapter>', 'uniform', 'base', …
  doRoute(input: RouteInput): AdapterMix;
}

/** When the router runs: once per prompt, every token, or every k tokens. */
export type RoutingSchedule = { kind: 'prompt' } | { kind: 'token' } | { kind: 'every'; k: number };
