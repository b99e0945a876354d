// The names of the pack graph's inputs and outputs (transformers.js / onnxruntime-genai
// convention plus the mixing inputs). Written once here; pack.json repeats them for loaders.

import type { PackIo } from '@lora-tle/spec';

export const GRAPH_IO = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  mixA: 'mix_a',
  mixB: 'mix_b',
  logits: 'logits',
  logitsToKeep: 'logits_to_keep',
  hidden: 'last_hidden_state', // per position (B, T, H): hiddenPerPosition
  hiddenPerPosition: true,
  pastKey: 'past_key_values.{i}.key',
  pastValue: 'past_key_values.{i}.value',
  presentKey: 'present.{i}.key',
  presentValue: 'present.{i}.value',
  appended: 'appended_key_values', // the rows this step added to every present.* (2·L·B, n_kv, T, d)
} as const satisfies PackIo;

export function pastName(kind: 'key' | 'value', layer: number): string {
  return (kind === 'key' ? GRAPH_IO.pastKey : GRAPH_IO.pastValue).replace('{i}', String(layer));
}

export function presentName(kind: 'key' | 'value', layer: number): string {
  return (kind === 'key' ? GRAPH_IO.presentKey : GRAPH_IO.presentValue).replace('{i}', String(layer));
}
