// Reads the routing profiles of a pack's adapters from an adapter store, for one embedder.
// Thin on purpose: the store format belongs to @lora-tle/lora-store.

import type { Embedder, TaskProfile } from '@lora-tle/spec';
import { LoraTleError } from '@lora-tle/spec';

export async function loadStoreProfiles(storeDir: string, adapters: readonly string[], embedder: Embedder): Promise<TaskProfile[]> {
  throw new LoraTleError(
    'E_STORE_MANIFEST',
    `reading adapter stores is not wired yet (store ${storeDir}, adapters ${adapters.join(', ')}, embedder ${embedder.id}); use --mode base, uniform or adapter:<name> with --pack alone`,
  );
}

export interface StoreAdapterToAdd {
  name: string;
  adapterDir: string;
  task: string;
  template: string;
  dataFile: string; // JSONL of training items, formatted with `template` for the profile
}

export async function createStoreWithProfiles(options: {
  storeDir: string;
  embedder: Embedder;
  adapters: readonly StoreAdapterToAdd[];
  terminal: unknown;
}): Promise<void> {
  throw new LoraTleError('E_STORE_MANIFEST', `creating adapter stores is not wired yet (${options.storeDir})`);
}
