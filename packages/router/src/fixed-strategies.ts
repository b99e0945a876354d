// Strategies that ignore the context: `fixed:<adapter>` (one adapter alone), `uniform` (1/N each,
// the uniform merge baseline) and `base` (all zeros: the base model). They declare
// `usesEmbedding: false` so the router skips embedding for them.

import { LoraTleError } from '@lora-tle/spec';
import type { RoutingStrategy } from '@lora-tle/spec';

/** A strategy that may tell the router it never reads `context.embedding`. */
export interface ContextFreeStrategy extends RoutingStrategy {
  readonly usesEmbedding: false;
}

export function createFixedStrategy(adapter: string): ContextFreeStrategy {
  if (adapter === '') throw new LoraTleError('E_STRATEGY', 'fixed needs an adapter name; write fixed:<adapter>');
  return {
    id: `fixed:${adapter}`,
    usesEmbedding: false,
    doRoute: ({ adapters }) => {
      const index = adapters.indexOf(adapter);
      if (index < 0) {
        throw new LoraTleError('E_UNKNOWN_ADAPTER', `fixed:${adapter} names an adapter that is not loaded; loaded adapters: ${adapters.join(', ') || '(none)'}`, {
          details: { adapter, adapters: [...adapters] },
        });
      }
      const weights = new Float32Array(adapters.length); // (N,) one-hot
      weights[index] = 1;
      return { adapters, weights };
    },
  };
}

export function createUniformStrategy(): ContextFreeStrategy {
  return {
    id: 'uniform',
    usesEmbedding: false,
    doRoute: ({ adapters }) => ({ adapters, weights: new Float32Array(adapters.length).fill(adapters.length === 0 ? 0 : 1 / adapters.length) }),
  };
}

export function createBaseStrategy(): ContextFreeStrategy {
  return {
    id: 'base',
    usesEmbedding: false,
    doRoute: ({ adapters }) => ({ adapters, weights: new Float32Array(adapters.length) }),
  };
}
