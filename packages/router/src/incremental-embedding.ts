// What the router needs from an embedder that follows a growing context step by step instead of
// embedding it again from the start: move to the new text (synchronously, as the hashing embedder
// does, or asynchronously, as the hidden embedder does when it runs the model on the new tokens),
// then the cosine similarities to the profiles and the embedding. An embedder offers it through
// createIncremental; the router uses it when present. Not an embedder itself.

export type IncrementalUpdate = 'unchanged' | 'extended' | 'rebuilt';

export interface IncrementalEmbedding {
  /** Move to `text`. 'extended': only what was appended was processed; 'rebuilt': all of it. */
  update(text: string): IncrementalUpdate | Promise<IncrementalUpdate>;
  /** True when update never returns a promise (the hashing state): the router can then route synchronously. */
  readonly synchronous?: boolean;
  /** Cosine similarity of the current text's embedding to each profile mean → (N,). */
  similarities(): Float32Array;
  /** The current text's embedding (D,), L2-normalised, as the embedder's embed([text]) gives it. */
  embedding(): Float32Array;
  /** Releases what the state holds (the hidden embedder: a model KV cache); the next update starts over. */
  dispose?(): void;
}

export interface IncrementalEmbedder {
  /** A fresh incremental state whose similarities are taken against `profiles` (N, D). */
  createIncremental(profiles: readonly Float32Array[]): IncrementalEmbedding;
}
