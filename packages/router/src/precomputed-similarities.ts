// Similarities the Router already knows for a RoutingContext (the incremental hashing path keeps
// u·p_i up to date), attached to that context object so that profileSimilarities can return them
// instead of recomputing cosines over the D-dim embedding. Keyed by the context object and checked
// against the profiles array, so a strategy called with other profiles or a copied context simply
// recomputes. Not a cache across steps: the Router attaches fresh values to each step's context.

import type { RoutingContext, TaskProfile } from '@lora-tle/spec';

interface Attached {
  profiles: readonly TaskProfile[];
  similarities: Float32Array; // (N,)
}

const attached = new WeakMap<RoutingContext, Attached>();

/** Record that `similarities` (N,) are the cosines of `context.embedding` to `profiles`' means. */
export function attachSimilarities(context: RoutingContext, profiles: readonly TaskProfile[], similarities: Float32Array): void {
  attached.set(context, { profiles, similarities });
}

/** The attached similarities for exactly this context and profiles array, else undefined. A copy: callers may modify it. */
export function attachedSimilarities(context: RoutingContext, profiles: readonly TaskProfile[]): Float32Array | undefined {
  const entry = attached.get(context);
  return entry !== undefined && entry.profiles === profiles ? entry.similarities.slice() : undefined;
}
