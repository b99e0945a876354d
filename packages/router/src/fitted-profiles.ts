// Fit-then-profile in one call: fit the hashing embedder on every adapter's formatted training
// texts, then build each adapter's profile (mean embedding, optional knn bank) with that same fitted
// embedder. The CLI's store builder and the eval suites both call this, so the sequence (and the
// rule "the fit covers all adapters' texts, every profile uses the same fit") is written once.
// Not persistence: saving the fit and profiles into an adapter store is the caller's (saveHashingFit,
// saveProfile from @lora-tle/lora-store/node).

import { LoraTleError, type TaskProfile } from '@lora-tle/spec';
import { fitHashingEmbedder, type FitHashingOptions, type HashingEmbedder } from './hashing-embedder.js';
import { buildProfile } from './task-profile.js';

export interface BuildFittedProfilesOptions {
  /** Each adapter's formatted training texts (prompt + answer); profiles come back in this key order. */
  textsByAdapter: Readonly<Record<string, readonly string[]>>;
  /** Hashing settings and minFraction for the fit (default: the embedder's defaults). */
  fit?: FitHashingOptions;
  /** Keep up to this many example embeddings per adapter for `knn` (default 0). */
  bankSize?: number;
  /** Called while embedding, per adapter (after the fit, which has no progress of its own). */
  onProgress?: (progress: { adapter: string; done: number; total: number }) => void;
}

export interface FittedProfiles {
  /** The fitted embedder; route with it (its `settings.fit` names the fit the profiles were made with). */
  embedder: HashingEmbedder;
  /** One profile per adapter, in `textsByAdapter` key order. */
  profiles: TaskProfile[];
}

export async function buildFittedProfiles(options: BuildFittedProfilesOptions): Promise<FittedProfiles> {
  const { textsByAdapter, fit = {}, bankSize = 0, onProgress } = options;
  if (Object.keys(textsByAdapter).length === 0) {
    throw new LoraTleError('E_INVALID_ARGUMENT', 'buildFittedProfiles needs the training texts of at least one adapter');
  }
  const embedder = fitHashingEmbedder(textsByAdapter, fit);
  const profiles: TaskProfile[] = [];
  for (const [adapter, texts] of Object.entries(textsByAdapter)) {
    profiles.push(
      await buildProfile({
        adapter,
        embedder,
        texts,
        bankSize,
        ...(onProgress === undefined ? {} : { onProgress: ({ done, total }: { done: number; total: number }) => onProgress({ adapter, done, total }) }),
      }),
    );
  }
  return { embedder, profiles };
}
