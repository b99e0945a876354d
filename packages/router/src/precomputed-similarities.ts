// A RoutingContext whose similarities the Router already knows (the incremental hashing path keeps
// u·p_i up to date), so that profileSimilarities can return them instead of recomputing cosines
// over the D-dim embedding. The similarities belong to this context object and its profiles array:
// a strategy called with other profiles, or with a copied context (a plain object), recomputes.
// The embedding is made on first read, since the similarity strategies never read it. A class
// rather than a WeakMap side table: one routed token makes one context, and a WeakMap entry per
// token is an ephemeron the garbage collector has to trace. Not a cache across steps.

import type { RoutingContext, TaskProfile } from '@lora-tle/spec';

export class PrecomputedContext implements RoutingContext {
  private made: Float32Array | undefined;

  constructor(
    readonly text: string,
    readonly tokenIds: readonly number[],
    readonly step: number,
    /** The profiles `similarities` were taken against (compared by identity). */
    readonly profiles: readonly TaskProfile[],
    /** Cosine of this context's embedding to each profile's mean (N,). */
    readonly similarities: Float32Array,
    /** Makes the embedding when a strategy first reads it; or the embedding itself. */
    private readonly makeEmbedding: (() => Float32Array) | Float32Array,
  ) {}

  get embedding(): Float32Array {
    if (this.made === undefined) this.made = typeof this.makeEmbedding === 'function' ? this.makeEmbedding() : this.makeEmbedding;
    return this.made;
  }
}

/** The known similarities of `context` to exactly this profiles array, else undefined. A copy: callers may modify it. */
export function attachedSimilarities(context: RoutingContext, profiles: readonly TaskProfile[]): Float32Array | undefined {
  return context instanceof PrecomputedContext && context.profiles === profiles ? context.similarities.slice() : undefined;
}
