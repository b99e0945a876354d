// Node only: routing profiles persisted in the adapter store. One file per (adapter, embedder id):
// profiles/<adapter>.<embedderId>.safetensors, recorded in the adapter's manifest entry. A profile
// made by another embedder (other id, or same id with other settings) is refused, never reused.

import { join } from 'node:path';
import { isLoraTleError, LoraTleError, type EmbedderRef, type StoreProfileEntry, type TaskProfile } from '@lora-tle/spec';
import { decodeProfile, encodeProfile } from '../profile-encode.js';
import { canonicalEmbedderRef, profileFileName, sameEmbedder } from '../store-manifest.js';
import { findAdapter, updateManifest, type AdapterStore } from './adapter-store.js';
import { openSafetensorsFile, writeSafetensorsFile } from './safetensors-file.js';

/** Writes the profile file and records it, replacing any earlier profile under the same embedder id. */
export async function saveProfile(store: AdapterStore, profile: TaskProfile): Promise<StoreProfileEntry> {
  findAdapter(store, profile.adapter);
  const { tensors, metadata } = encodeProfile(profile);
  const file = profileFileName(profile.adapter, profile.embedder.id);
  await writeSafetensorsFile(join(store.root, file), tensors, metadata);
  const entry: StoreProfileEntry = {
    embedder: { id: profile.embedder.id, settings: { ...profile.embedder.settings } },
    file,
    count: profile.count,
    hasBank: (profile.bank?.length ?? 0) > 0,
    createdAt: new Date().toISOString(),
  };
  await updateManifest(store, (manifest) => {
    const adapter = manifest.adapters.find((candidate) => candidate.name === profile.adapter);
    if (!adapter) throw new LoraTleError('E_UNKNOWN_ADAPTER', `adapter "${profile.adapter}" was removed from the store while its profile was saved`);
    adapter.profiles = adapter.profiles.filter((existing) => existing.file !== file && existing.embedder.id !== profile.embedder.id);
    adapter.profiles.push(entry);
  });
  return entry;
}

/** Profiles of `adapters` (default: all, in store order) made by exactly `embedder`. */
export async function loadProfiles(store: AdapterStore, embedder: EmbedderRef, adapters?: readonly string[]): Promise<TaskProfile[]> {
  const names = adapters ?? store.manifest.adapters.map((entry) => entry.name);
  const profiles: TaskProfile[] = [];
  for (const name of names) {
    const entry = findAdapter(store, name);
    const match = entry.profiles.find((profile) => sameEmbedder(profile.embedder, embedder));
    if (!match) {
      if (entry.profiles.length > 0) {
        const made = entry.profiles.map((profile) => canonicalEmbedderRef(profile.embedder)).join(' and ');
        throw new LoraTleError(
          'E_PROFILE_EMBEDDER',
          `adapter "${name}" has a routing profile only for embedder ${made}, not for ${canonicalEmbedderRef(embedder)}; rebuild it with \`lora-tle profile\` using this embedder`,
          { details: { adapter: name } },
        );
      }
      throw new LoraTleError('E_PROFILE_MISSING', `adapter "${name}" has no routing profile; build one with \`lora-tle profile\``, { details: { adapter: name } });
    }
    const reader = await openSafetensorsFile(join(store.root, match.file)).catch((cause: unknown) => {
      if (!isLoraTleError(cause) || cause.code !== 'E_NOT_FOUND') throw cause;
      throw new LoraTleError('E_STORE_FILES_MISSING', `the profile file ${match.file} of adapter "${name}" cannot be read; rebuild it with \`lora-tle profile\``, { cause });
    });
    try {
      profiles.push(await decodeProfile(reader, name, embedder));
    } finally {
      await reader.close();
    }
  }
  const dimensions = new Set(profiles.map((profile) => profile.mean.length));
  if (dimensions.size > 1) {
    throw new LoraTleError('E_PROFILE_EMBEDDER', `the profiles have different dimensions (${[...dimensions].join(', ')}); rebuild them with \`lora-tle profile\``);
  }
  return profiles;
}
