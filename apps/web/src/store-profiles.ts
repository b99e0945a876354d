// The adapter store's routing profiles, read in the browser: store/manifest.json (validated by
// @lora-tle/lora-store) and, per adapter, the profile file made by the embedder in use, decoded
// from bytes (safetensors over a memory byte source). The browser twin of lora-store/node's
// loadProfiles; not a store writer.

import { decodeProfile, memoryByteSource, openSafetensors, parseStoreManifest, sameEmbedder } from '@lora-tle/lora-store';
import { LoraTleError, type EmbedderRef, type TaskProfile } from '@lora-tle/spec';
import type { AssetFetcher } from './cached-fetch.js';

export async function loadStoreProfiles(assets: AssetFetcher, adapters: readonly string[], embedder: EmbedderRef): Promise<TaskProfile[]> {
  const manifest = parseStoreManifest(await assets.json('store/manifest.json'), 'store/manifest.json');
  const profiles: TaskProfile[] = [];
  for (const name of adapters) {
    const entry = manifest.adapters.find((adapter) => adapter.name === name);
    if (!entry) throw new LoraTleError('E_STORE_ADAPTER_MISSING', `the store has no adapter "${name}" of the pack; rerun apps/web/scripts/prepare-assets.ts`);
    const match = entry.profiles.find((profile) => sameEmbedder(profile.embedder, embedder));
    if (!match) throw new LoraTleError('E_PROFILE_MISSING', `adapter "${name}" has no profile made by embedder "${embedder.id}"; rerun apps/web/scripts/prepare-assets.ts`);
    const path = `store/${match.file}`;
    const reader = await openSafetensors(memoryByteSource(await assets.bytes(path)), path);
    try {
      profiles.push(await decodeProfile(reader, name, embedder));
    } finally {
      await reader.close();
    }
  }
  return profiles;
}
