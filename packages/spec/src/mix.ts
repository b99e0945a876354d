// Adapter mixtures: what a routing strategy decides and what a backend consumes.
// The weights are per sequence; a batch may mix differently in every row.

/** How adapters are combined (DESIGN.md "The core idea for speed"). */
export type Combination = 'cat' | 'linear' | 'linear-peft0.4';
/** Offline-only combinations (cannot be factorised at run time). */
export type OfflineCombination = Combination | 'svd' | 'svd-peft0.4';

/** Routing result for one sequence: one weight per adapter, in `adapters` order. */
export interface AdapterMix {
  adapters: readonly string[]; // adapter names, same order as the pack
  weights: Float32Array; // (N,)
}

/**
 * The per-sequence coefficient vectors a backend feeds to the graph so that no weight is merged:
 * `a` scales the A-side (rank rows of adapter i), `b` the B-side. Per-module LoRA scalings are baked
 * into the pack; these depend on the weights and the combination only. See @lora-tle/mixing.
 */
export interface MixCoefficients {
  a: Float32Array; // (N,)
  b: Float32Array; // (N,)
}
