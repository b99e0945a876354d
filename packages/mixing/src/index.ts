// @lora-tle/mixing: pure LoRA math on Float32Array — similarity, weighting rules, scaling, run-time
// mixing coefficients, offline merges (PEFT add_weighted_adapter). No I/O, no runtime.

export * from './similarity.js';
export * from './weighting.js';
export * from './scaling.js';
export * from './combination.js';
export { loraDelta, mixedDelta } from './delta.js';
export * from './merge.js';
export { truncatedSvdOfSum, type LowRankTerm, type TruncatedFactors } from './merge-svd.js';
export * from './reference-forward.js';
