// A RoutingContext whose similarities the Router already knows (the incremental hashing path keeps
// u·p_i up to date), so that profileSimilarities can return them instead of recomputing cosines
// over the D-dim embedding. The similarities belong to this context object and its profiles array:
// a strategy called with other profiles, or with a copy of the context ({ ...context }, which
// keeps text, tokenIds, step and embedding as plain values), recomputes. The embedding is made on
// first read, since the similarity strategies never read it. A class rather than an object literal
// plus a WeakMap side table: one routed token makes one context, and a WeakMap entry per token is
// an ephemeron the garbage collector has to trace. Not a cache across steps.

import type { RoutingContext, TaskProfile } from '@lora-tle/spec';

export class PrecomputedContext implements RoutingContext {
  /** An own, enumerable getter (shared by every instance), so that a spread copy keeps `embedding`. */
  static readonly #embeddingProperty: PropertyDescriptor = {
    enumerable: true,
    get(this: PrecomputedContext): Float32Array {
      if (this.#made === undefined) this.#made = typeof this.#makeEmbedding === 'function' ? this.#makeEmbedding() : this.#makeEmbedding;
      return this.#made;
    },
  };

  declare readonly embedding: Float32Array; // defined per instance in the constructor
  readonly #profiles: readonly TaskProfile[];
  readonly #similarities: Float32Array; // (N,)
  readonly #makeEmbedding: (() => Float32Array) | Float32Array;
  #made: Float32Array | undefined;

  /**
   * `similarities`: cosine of this context's embedding to each of `profiles`' means (N,);
   * `makeEmbedding`: makes the embedding when a strategy first reads it, or the embedding itself.
   */
  constructor(
    readonly text: string,
    readonly tokenIds: readonly number[],
    readonly step: number,
    profiles: readonly TaskProfile[],
    similarities: Float32Array,
    makeEmbedding: (() => Float32Array) | Float32Array,
  ) {
    this.#profiles = profiles;
    this.#similarities = similarities;
    this.#makeEmbedding = makeEmbedding;
    Object.defineProperty(this, 'embedding', PrecomputedContext.#embeddingProperty);
  }

  /** The known similarities of `context` to exactly this profiles array, else undefined. A copy: callers may modify it. */
  static similaritiesOf(context: RoutingContext, profiles: readonly TaskProfile[]): Float32Array | undefined {
    return context instanceof PrecomputedContext && context.#profiles === profiles ? context.#similarities.slice() : undefined;
  }
}
