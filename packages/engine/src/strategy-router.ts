// A ContextRouter made of the spec pieces: an Embedder, one TaskProfile per adapter and a
// RoutingStrategy (embed the context text, then strategy.doRoute). Use it when you hold those
// pieces; a Router object from @lora-tle/router can be passed to the engine through the same seam.
// It routes through createRouter (token schedule), so the hashing embedder's incremental path
// applies here too. Not a strategy itself and not a profile builder.

import type { Embedder, RoutingStrategy, TaskProfile } from '@lora-tle/spec';
import { LoraTleError } from '@lora-tle/spec';
import { createRouter } from '@lora-tle/router';
import type { ContextRouter } from './routing-mode.js';
import { contextRouterFrom } from './seams.js';

export interface StrategyRouterParts {
  embedder: Embedder;
  profiles: readonly TaskProfile[]; // one per adapter
  strategy: RoutingStrategy;
}

export function createStrategyRouter({ embedder, profiles, strategy }: StrategyRouterParts): ContextRouter {
  const adapters = profiles.map((profile) => profile.adapter);
  for (const profile of profiles) {
    const sameId = profile.embedder.id === embedder.id;
    const sameSettings = JSON.stringify(sortedEntries(profile.embedder.settings)) === JSON.stringify(sortedEntries(embedder.settings));
    if (!sameId || !sameSettings) {
      throw new LoraTleError(
        'E_PROFILE_EMBEDDER',
        `the profile of adapter "${profile.adapter}" was made by embedder "${profile.embedder.id}" with other settings than ` +
          `the "${embedder.id}" embedder in use; rebuild the profile with this embedder (lora-tle profile)`,
      );
    }
  }
  return contextRouterFrom(createRouter({ embedder, profiles, adapters, strategy, schedule: 'token' }));
}

function sortedEntries(settings: Record<string, unknown>): [string, unknown][] {
  return Object.entries(settings).sort(([left], [right]) => left.localeCompare(right));
}
