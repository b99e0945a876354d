// Adapters from the sibling packages' objects to the engine's two seams: a @lora-tle/tokenizer
// TextTokenizer → EngineTokenizer (prompt ids with BOS as the tokenizer's post-processor adds it,
// decoding without special tokens) and a @lora-tle/router Router → ContextRouter. Nothing else.

import type { AdapterMix } from '@lora-tle/spec';
import { LoraTleError } from '@lora-tle/spec';
import type { Router } from '@lora-tle/router';
import type { TextTokenizer } from '@lora-tle/tokenizer';
import type { EngineTokenizer } from './decode-loop.js';
import type { ContextRouter } from './routing-mode.js';

export function engineTokenizerFrom(tokenizer: TextTokenizer): EngineTokenizer {
  return {
    encode: (text) => tokenizer.encode(text, { addSpecialTokens: true }),
    // ids past the tokenizer's vocabulary (a model vocab padded beyond it) decode to nothing
    decode: (ids) => tokenizer.decode(ids.filter((id) => id < tokenizer.vocabSize), { skipSpecialTokens: true }),
  };
}

/**
 * The engine decides when to route (its routing mode); the Router may have its own schedule and
 * then answers null on skipped steps — its last mixture is used then.
 */
export function contextRouterFrom(router: Router): ContextRouter {
  const mixOf = (mix: AdapterMix | null, step: number): AdapterMix => {
    const chosen = mix ?? router.lastMix;
    if (!chosen) throw new LoraTleError('E_STRATEGY', `router strategy "${router.strategy.id}" returned no mixture for step ${step}`);
    return chosen;
  };
  return {
    adapters: router.adapters,
    async route(request): Promise<AdapterMix> {
      return mixOf(await router.route(request), request.step);
    },
    routeSync(request): AdapterMix | undefined {
      const mix = router.routeSync(request);
      return mix === undefined ? undefined : mixOf(mix, request.step);
    },
  };
}
