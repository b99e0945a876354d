// The hashing embedder's fit persisted in the adapter store, next to the profiles it made:
// `embedders/hashing-<fit hash>.safetensors` with tensors `keys` (M, 2) — each 32-bit key as two
// 16-bit halves, exact in float32 — and `weights` (M,), the feature settings in __metadata__.
// A thin layer over @lora-tle/lora-store's public API (safetensors encode/read, atomic write);
// the store manifest is unchanged: a profile's embedder settings name the fit by its hash.
// encode/decode and restore are platform-neutral; saveHashingFit/openStoreHashingEmbedder use node:fs lazily.

import { encodeSafetensorsBytes, memoryByteSource, openSafetensors } from '@lora-tle/lora-store';
import type { AdapterStore } from '@lora-tle/lora-store/node';
import { LoraTleError, type EmbedderRef } from '@lora-tle/spec';
import { createHashingEmbedder, type HashingEmbedder, type HashingEmbedderSettings } from './hashing-embedder.js';
import { hashingFitHash, type HashingFit } from './hashing-fit.js';

/** Where the fit with this hash lives, relative to the store root. */
export function hashingFitFile(fitHash: string): string {
  if (!/^[0-9a-f]{16}$/.test(fitHash)) throw new LoraTleError('E_EMBEDDER', `"${fitHash}" is not a hashing fit hash (16 hex digits)`);
  return `embedders/hashing-${fitHash}.safetensors`;
}

export function encodeHashingFit(fit: HashingFit): Uint8Array {
  const halves = new Float32Array(fit.keys.length * 2); // (M, 2) [high 16 bits, low 16 bits]
  fit.keys.forEach((key, i) => {
    halves[2 * i] = key >>> 16;
    halves[2 * i + 1] = key & 0xffff;
  });
  return encodeSafetensorsBytes(
    [
      { name: 'keys', shape: [fit.keys.length, 2], data: halves },
      { name: 'weights', shape: [fit.weights.length], data: fit.weights },
    ],
    { settings: JSON.stringify(fit.settings), minFraction: String(fit.minFraction), fit: hashingFitHash(fit) },
  );
}

export async function decodeHashingFit(bytes: Uint8Array, label = 'hashing fit'): Promise<HashingFit> {
  const reader = await openSafetensors(memoryByteSource(bytes), label);
  try {
    const halves = await reader.readTensor('keys'); // (M, 2)
    const weights = await reader.readTensor('weights'); // (M,)
    const keys = new Uint32Array(weights.length);
    for (let i = 0; i < keys.length; i++) keys[i] = (((halves[2 * i] as number) << 16) | (halves[2 * i + 1] as number)) >>> 0;
    const settings = JSON.parse(reader.metadata?.['settings'] ?? 'null') as Omit<HashingEmbedderSettings, 'dimension'> | null;
    if (settings === null || halves.length !== 2 * keys.length) throw new LoraTleError('E_EMBEDDER', `${label} is not a hashing embedder fit; refit and rebuild the profiles`);
    const fit: HashingFit = { settings, keys, weights, minFraction: Number(reader.metadata?.['minFraction']) };
    if (hashingFitHash(fit) !== reader.metadata?.['fit']) throw new LoraTleError('E_EMBEDDER', `${label}: its content does not match its recorded hash; refit and rebuild the profiles`);
    return fit;
  } finally {
    await reader.close();
  }
}

/**
 * The hashing embedder that `ref` (a profile's embedder) describes. A fitted ref reads its fit with
 * `readFile(hashingFitFile(hash))` (store-relative path → bytes: node:fs, fetch, …).
 */
export async function restoreHashingEmbedder(ref: EmbedderRef, readFile: (relativePath: string) => Promise<Uint8Array>): Promise<HashingEmbedder> {
  if (ref.id !== 'hashing') throw new LoraTleError('E_EMBEDDER', `expected a hashing embedder ref, got "${ref.id}"`);
  const { version: _version, fit: fitHash, fitFeatures: _count, ...settings } = ref.settings;
  const embedder =
    typeof fitHash === 'string'
      ? createHashingEmbedder({ fitted: await decodeHashingFit(await readFile(hashingFitFile(fitHash)), hashingFitFile(fitHash)), dimension: settings['dimension'] as number })
      : createHashingEmbedder(settings as Partial<HashingEmbedderSettings>);
  const mismatch = Object.keys({ ...ref.settings, ...embedder.settings }).find((key) => ref.settings[key] !== embedder.settings[key]);
  if (mismatch !== undefined) {
    throw new LoraTleError('E_PROFILE_EMBEDDER', `the stored hashing embedder differs in ${mismatch} (stored ${String(ref.settings[mismatch])}, this lora-tle ${String(embedder.settings[mismatch])}); rebuild the profiles with \`lora-tle profile\``);
  }
  return embedder;
}

/** Node: write a fitted embedder's fit into the store (idempotent; the file name is the fit hash). */
export async function saveHashingFit(store: AdapterStore, embedder: HashingEmbedder): Promise<string> {
  if (embedder.fit === null) throw new LoraTleError('E_INVALID_ARGUMENT', 'saveHashingFit needs a fitted hashing embedder (fitHashingEmbedder)');
  const [{ writeFileAtomic }, { join }] = await Promise.all([import('@lora-tle/lora-store/node'), import('node:path')]);
  const file = hashingFitFile(embedder.settings['fit'] as string);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(store.root, 'embedders'), { recursive: true });
  await writeFileAtomic(join(store.root, file), [encodeHashingFit(embedder.fit)]);
  return file;
}

/** Node: the hashing embedder that made this store's `hashing` profiles (fitted or not). */
export async function openStoreHashingEmbedder(store: AdapterStore): Promise<HashingEmbedder> {
  const refs = store.manifest.adapters.flatMap((adapter) => adapter.profiles.map((profile) => profile.embedder)).filter((ref) => ref.id === 'hashing');
  const ref = refs[0];
  if (ref === undefined) throw new LoraTleError('E_PROFILE_MISSING', `the store at ${store.root} has no hashing profiles; build them with \`lora-tle profile\``);
  const [{ readFile }, { join }] = await Promise.all([import('node:fs/promises'), import('node:path')]);
  return restoreHashingEmbedder(ref, async (path) => {
    try {
      return new Uint8Array(await readFile(join(store.root, path)));
    } catch (cause) {
      throw new LoraTleError('E_STORE_FILES_MISSING', `the hashing embedder fit ${path} is missing from the store at ${store.root}; rebuild the profiles`, { cause });
    }
  });
}
