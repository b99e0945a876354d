// The `hidden` embedder on a loaded pack: each text is tokenized and run once through the base
// model (every adapter weight 0, no cache), and the pack's hidden output (mean of the
// final-norm states over the text, (H,)) is its vector, L2-normalised by @lora-tle/router's
// wrapper. For routing a growing context it also gives the router an incremental state: the base
// model keeps its own KV cache of the text so far, and each route runs only the appended tokens
// (one decode step per generated token instead of a prefill of the whole context); the mean is
// kept as a running sum. Not a router and not a profile builder.

import { createHiddenEmbedder, type IncrementalEmbedder, type IncrementalHiddenState } from '@lora-tle/router';
import { LoraTleError, type BackendSession, type Embedder, type KvCache } from '@lora-tle/spec';
import type { EngineTokenizer } from './decode-loop.js';

export function createSessionHiddenEmbedder(session: BackendSession, tokenizer: EngineTokenizer): Embedder & IncrementalEmbedder {
  const { pack } = session;
  if (pack.io.hidden === null) {
    throw new LoraTleError('E_EMBEDDER', 'the model pack has no hidden output (it was built with --no-hidden); rebuild it without --no-hidden to route with the hidden embedder');
  }
  const { hiddenSize, maxPositionEmbeddings } = pack.architecture;
  const adapterCount = pack.adapters.length;
  const baseOnly = { a: new Float32Array(adapterCount), b: new Float32Array(adapterCount) }; // the base model's own states
  // the base model decides the vectors: a profile made on another checkpoint is refused. Packs
  // written without source hashes (programmatic builds) fall back to weaker identities.
  const sourceHash = pack.sourceHashes['checkpoint/model.safetensors'] ?? Object.values(pack.sourceHashes).sort().join('+');
  const packHash = sourceHash || pack.modelSha256 || `${pack.architecture.modelType}-${hiddenSize}x${pack.architecture.numLayers}`;
  /** The ids the base model sees for `text`: the most recent max_position_embeddings of them. */
  const idsOf = (text: string): number[] => {
    const ids = Array.from(tokenizer.encode(text));
    if (ids.length === 0) throw new LoraTleError('E_EMBEDDER', 'hidden embedder: the text has no tokens; route on a non-empty context');
    return ids.length > maxPositionEmbeddings ? ids.slice(ids.length - maxPositionEmbeddings) : ids;
  };
  /**
   * Runs `ids` on `cache` (null: from scratch); the mean hidden state of those ids (H,) and the new
   * cache (already disposed with `keepCache` false: the backend then copies no K/V out).
   */
  const run = async (ids: readonly number[], cache: KvCache | null, keepCache = true): Promise<{ hidden: Float32Array; cache: KvCache }> => {
    const output = await session.doStep({ inputIds: Int32Array.from(ids), batchSize: 1, sequenceLength: ids.length, mix: [baseOnly], cache, logits: 'last', hidden: true, keepCache });
    if (output.hidden === undefined) {
      output.cache.dispose();
      throw new LoraTleError('E_EMBEDDER', 'hidden embedder: the backend returned no hidden state; rebuild the pack without --no-hidden');
    }
    return { hidden: output.hidden, cache: output.cache };
  };

  const createIncrementalState = (): IncrementalHiddenState => {
    let ids: number[] = [];
    let cache: KvCache | null = null; // the base model's cache of `ids`
    const sum = new Float64Array(hiddenSize); // Σ over the positions of `ids` of their final-norm states
    const add = (hidden: Float32Array, positions: number): void => {
      for (let j = 0; j < hiddenSize; j++) sum[j] = (sum[j] as number) + positions * (hidden[j] as number);
    };
    return {
      async update(text) {
        const next = idsOf(text);
        const previous = ids;
        if (next.length === previous.length && next.every((id, i) => id === previous[i])) return 'unchanged';
        const extending = cache !== null && next.length > previous.length && previous.every((id, i) => id === next[i]);
        const past = extending ? cache : null;
        if (!extending) {
          cache?.dispose();
          sum.fill(0);
        }
        cache = null; // consumed by the step below even if it throws; the next update then rebuilds
        ids = [];
        const appended = extending ? next.slice(previous.length) : next;
        const result = await run(appended, past);
        add(result.hidden, appended.length);
        cache = result.cache;
        ids = next;
        return extending ? 'extended' : 'rebuilt';
      },
      mean() {
        return Float32Array.from(sum, (value) => value / Math.max(1, ids.length));
      },
      dispose() {
        cache?.dispose();
        cache = null;
        ids = [];
        sum.fill(0);
      },
    };
  };

  return createHiddenEmbedder({
    dimension: hiddenSize,
    packHash,
    async embedHidden(texts) {
      const vectors: Float32Array[] = [];
      for (const text of texts) {
        const { hidden } = await run(idsOf(text), null, false); // one whole text: nothing to continue
        vectors.push(Float32Array.from(hidden)); // (H,)
      }
      return vectors;
    },
    createIncrementalState,
  });
}
