// From a run's raw outputs to the spec StepOutput fields: logits (B, T, V) sliced to the last
// position of each row for logits 'last', and the pooled hidden state (B, H), pooled here when the
// graph returns it per position.
// Not the cache (kv-cache-base.ts), not running anything.

import { LoraTleError } from '@lora-tle/spec';
import type { PackManifest, StepInput } from '@lora-tle/spec';

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

/**
 * The step's pooled hidden state (B, H) from the pack's hidden output: as returned when the graph
 * pooled it, or (io.hiddenPerPosition) the mean of the final-norm states (B, T, H) over this step's
 * positions whose attention mask is 1 (all, without a mask; zeros for a row with none).
 * E_BACKEND_RUN when the runtime returned another size.
 */
export function stepHidden(pack: PackManifest, hidden: Float32Array, input: StepInput, past: number): Float32Array {
  const { batchSize: B, sequenceLength: T } = input;
  const H = pack.architecture.hiddenSize;
  const perPosition = pack.io.hiddenPerPosition === true;
  const expected = perPosition ? B * T * H : B * H;
  if (hidden.length !== expected) throw new LoraTleError('E_BACKEND_RUN', `hidden output has ${hidden.length} values, expected ${expected}`);
  if (!perPosition) return hidden;
  const mask = input.attentionMask; // (B, past + T)
  const pooled = new Float32Array(B * H); // (B, H)
  for (let row = 0; row < B; row++) {
    const sum = new Float64Array(H);
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (mask && mask[row * (past + T) + past + t] === 0) continue;
      count++;
      const at = (row * T + t) * H;
      for (let j = 0; j < H; j++) sum[j] = (sum[j] as number) + (hidden[at + j] as number);
    }
    for (let j = 0; j < H; j++) pooled[row * H + j] = (sum[j] as number) / Math.max(1, count);
  }
  return pooled;
}
