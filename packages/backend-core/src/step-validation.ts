// Checks one spec StepInput against the loaded pack and the session's cache before any feed is
// built: shapes (B, T), token ids inside the vocabulary, one mix row per batch row with N
// coefficients, the hidden output, cache ownership and batch, mask/position lengths and the
// model's position limit, and a naive-graph session's adapter factors. Throws E_INVALID_ARGUMENT
// or E_CONTEXT_OVERFLOW with what to do.
// Not disposal checks of session or cache (the session and BackendKvCache.tensors() do those).

import { LoraTleError } from '@lora-tle/spec';
import type { PackManifest, StepInput } from '@lora-tle/spec';
import { BackendKvCache } from './kv-cache-base.js';
import { checkAdapterFactors } from './naive-graph.js';

function bad(message: string): never {
  throw new LoraTleError('E_INVALID_ARGUMENT', message);
}

/**
 * Validates `input` for a session of `pack`; `session` is the owner a cache must have been made by.
 * Returns the past length (cache.length, 0 without a cache).
 */
export function validateStep(pack: PackManifest, input: StepInput, session: object): number {
  const { io, architecture } = pack;
  const { batchSize: B, sequenceLength: T, cache } = input;
  const N = pack.adapters.length;
  const V = architecture.vocabSize;

  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) bad(`batchSize and sequenceLength must be positive integers, got ${B} and ${T}`);
  if (input.inputIds.length !== B * T) bad(`inputIds has ${input.inputIds.length} ids, expected batchSize·sequenceLength = ${B * T}`);
  for (const id of input.inputIds) if (id < 0 || id >= V) bad(`token id ${id} is outside the vocabulary [0, ${V})`);
  if (input.mix.length !== B) bad(`mix has ${input.mix.length} rows, expected one per batch row (${B})`);
  input.mix.forEach((row, index) => {
    if (row.a.length !== N || row.b.length !== N) bad(`mix row ${index} has ${row.a.length}/${row.b.length} coefficients, the pack has ${N} adapters`);
  });
  if (input.hidden && io.hidden === null) bad('hidden state requested but the pack was built without it; rebuild the pack with the hidden output');
  checkAdapterFactors(pack, input.adapterFactors);
  let past = 0;
  if (cache !== null) {
    if (!(cache instanceof BackendKvCache) || cache.owner !== session) bad('the cache was not produced by this session; pass the cache returned by its previous doStep');
    if (cache.batchSize !== B) bad(`the cache holds ${cache.batchSize} rows but the step has ${B}`);
    past = cache.length;
    if (T > 1 && B > 1 && past > 0) {
      bad('a multi-token step on a non-empty cache needs batch size 1 (GroupQueryAttention limitation); feed one token per step or run rows separately');
    }
  }
  const total = past + T;
  if (input.positionIds && input.positionIds.length !== B * T) bad(`positionIds has ${input.positionIds.length} entries, expected ${B * T}`);
  if (input.attentionMask && input.attentionMask.length !== B * total) bad(`attentionMask has ${input.attentionMask.length} entries, expected batch·(cache.length + T) = ${B * total}`);

  const maxPositions = architecture.maxPositionEmbeddings;
  // The cache length counts too: packs that rotate inside GroupQueryAttention index the rotary
  // tables by cache position (total − 1 for the last token), left padding included.
  const lastPosition = Math.max(total - 1, ...(input.positionIds ?? []));
  if (lastPosition >= maxPositions) {
    throw new LoraTleError('E_CONTEXT_OVERFLOW', `position ${lastPosition} is beyond the model's ${maxPositions} positions (max_position_embeddings); shorten the prompt or generate fewer tokens`);
  }
  if (input.positionIds && input.positionIds.some((position) => position < 0)) bad('positionIds must be ≥ 0');
  return past;
}
