// From a run's raw outputs to the spec StepOutput fields: logits (B, T, V) sliced to the last
// position of each row for logits 'last', and the pooled hidden state (B, H) checked for size.
// Not the cache (kv-cache-base.ts), not running anything.

import { LoraTleError } from '@lora-tle/spec';

/**
 * Logits as the step asked for them: 'all' → (B, T, V) as is; 'last' (default) → (B, 1, V), sliced
 * here unless the graph already returned only the last position (packs with logits_to_keep).
 */
export function selectLogits(allLogits: Float32Array, batchSize: number, sequenceLength: number, vocabSize: number, which: 'last' | 'all' = 'last'): { logits: Float32Array; logitsPositions: number } {
  const B = batchSize;
  const T = sequenceLength;
  const V = vocabSize;
  if (which === 'all' || T === 1) return { logits: allLogits, logitsPositions: T };
  if (allLogits.length === B * V) return { logits: allLogits, logitsPositions: 1 }; // (B, 1, V) from the graph
  const logits = new Float32Array(B * V); // (B, 1, V)
  for (let row = 0; row < B; row++) logits.set(allLogits.subarray((row * T + T - 1) * V, (row * T + T) * V), row * V);
  return { logits, logitsPositions: 1 };
}

/** The hidden output (B, H); E_BACKEND_RUN when the runtime returned another size. */
export function checkedHidden(hidden: Float32Array, batchSize: number, hiddenSize: number): Float32Array {
  if (hidden.length !== batchSize * hiddenSize) throw new LoraTleError('E_BACKEND_RUN', `hidden output has ${hidden.length} values, expected ${batchSize * hiddenSize}`);
  return hidden;
}
