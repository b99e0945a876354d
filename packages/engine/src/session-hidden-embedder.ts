// The `hidden` embedder on a loaded pack: each text is tokenized and run once through the base
// model (every adapter weight 0, no cache), and the pack's hidden output (mean of the
// final-norm states over the text, (H,)) is its vector, L2-normalised by @lora-tle/router's
// wrapper. It costs a prefill per text, so routing with it re-runs the whole context at every
// routed step (no incremental path). Not a router and not a profile builder.

import { createHiddenEmbedder } from '@lora-tle/router';
import { LoraTleError, type BackendSession, type Embedder } from '@lora-tle/spec';
import type { EngineTokenizer } from './decode-loop.js';

export function createSessionHiddenEmbedder(session: BackendSession, tokenizer: EngineTokenizer): Embedder {
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
  return createHiddenEmbedder({
    dimension: hiddenSize,
    packHash,
    async embedHidden(texts) {
      const vectors: Float32Array[] = [];
      for (const text of texts) {
        let ids = Array.from(tokenizer.encode(text));
        if (ids.length === 0) throw new LoraTleError('E_EMBEDDER', 'hidden embedder: the text has no tokens; route on a non-empty context');
        if (ids.length > maxPositionEmbeddings) ids = ids.slice(ids.length - maxPositionEmbeddings); // the most recent context
        const output = await session.doStep({ inputIds: Int32Array.from(ids), batchSize: 1, sequenceLength: ids.length, mix: [baseOnly], cache: null, logits: 'last', hidden: true });
        output.cache.dispose();
        if (output.hidden === undefined) throw new LoraTleError('E_EMBEDDER', 'hidden embedder: the backend returned no hidden state; rebuild the pack without --no-hidden');
        vectors.push(Float32Array.from(output.hidden)); // (H,)
      }
      return vectors;
    },
  });
}
