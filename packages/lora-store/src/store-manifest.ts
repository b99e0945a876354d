// The adapter store's manifest.json: validation (everything read from disk is checked before
// use), names that are safe as file names, embedder identity, profile file names. Pure; the
// store operations on disk are node/adapter-store.ts and node/store-profiles.ts.

import { LoraTleError, STORE_FORMAT_VERSION, type EmbedderRef, type StoreAdapterEntry, type StoreManifest, type StoreProfileEntry } from '@lora-tle/spec';

export const STORE_MANIFEST_FILE = 'manifest.json';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** Adapter names become file names: letters, digits, '_' and '-', starting with a letter or digit. */
export function assertStoreName(name: string, what = 'adapter name'): void {
  if (!NAME_PATTERN.test(name)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `${what} ${JSON.stringify(name)} is not allowed; use letters, digits, "_" and "-" (at most 100, starting with a letter or digit)`);
  }
}

/** Embedder settings as canonical JSON (sorted keys): equal refs give equal strings. */
export function canonicalEmbedderRef(embedder: EmbedderRef): string {
  const settings = Object.fromEntries(Object.entries(embedder.settings).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));
  return JSON.stringify({ id: embedder.id, settings });
}

export function sameEmbedder(left: EmbedderRef, right: EmbedderRef): boolean {
  return canonicalEmbedderRef(left) === canonicalEmbedderRef(right);
}

/** `profiles/<adapter>.<embedder id>.safetensors`, with the id reduced to file-name-safe characters. */
export function profileFileName(adapter: string, embedderId: string): string {
  return `profiles/${adapter}.${embedderId.replace(/[^A-Za-z0-9_-]/g, '_')}.safetensors`;
}

function manifestError(label: string, problem: string): never {
  throw new LoraTleError('E_STORE_MANIFEST', `${label}: ${problem}; fix the manifest or re-create the store`, { details: { file: label } });
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function parseEmbedder(value: unknown, where: string, label: string): EmbedderRef {
  if (!isObject(value) || typeof value.id !== 'string' || !isObject(value.settings)) manifestError(label, `${where}.embedder must be { id, settings }`);
  for (const [key, setting] of Object.entries(value.settings)) {
    if (!['string', 'number', 'boolean'].includes(typeof setting)) manifestError(label, `${where}.embedder.settings.${key} must be a string, number or boolean`);
  }
  return { id: value.id, settings: { ...(value.settings as EmbedderRef['settings']) } };
}

function parseProfile(value: unknown, where: string, label: string): StoreProfileEntry {
  if (!isObject(value)) manifestError(label, `${where} is not an object`);
  const { file, count, hasBank, createdAt } = value;
  if (typeof file !== 'string' || !/^profiles\/[^/\\]+\.safetensors$/.test(file)) manifestError(label, `${where}.file must be profiles/<name>.safetensors, got ${JSON.stringify(file)}`);
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) manifestError(label, `${where}.count must be a non-negative integer`);
  if (typeof hasBank !== 'boolean') manifestError(label, `${where}.hasBank must be true or false`);
  if (typeof createdAt !== 'string') manifestError(label, `${where}.createdAt must be an ISO time string`);
  return { embedder: parseEmbedder(value.embedder, where, label), file, count, hasBank, createdAt };
}

function parseAdapterEntry(value: unknown, where: string, label: string): StoreAdapterEntry {
  if (!isObject(value)) manifestError(label, `${where} is not an object`);
  const { name, path, task, template, contentHash, profiles } = value;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) manifestError(label, `${where}.name ${JSON.stringify(name)} is not a valid adapter name`);
  for (const [field, fieldValue] of Object.entries({ path, task, template })) {
    if (typeof fieldValue !== 'string') manifestError(label, `${where}.${field} must be a string`);
  }
  if (path === '') manifestError(label, `${where}.path is empty`);
  if (typeof contentHash !== 'string' || !/^[0-9a-f]{64}$/.test(contentHash)) manifestError(label, `${where}.contentHash must be a sha256 hex digest`);
  if (!Array.isArray(profiles)) manifestError(label, `${where}.profiles must be a list`);
  return {
    name,
    path: path as string,
    task: task as string,
    template: template as string,
    contentHash,
    profiles: profiles.map((profile, index) => parseProfile(profile, `${where}.profiles[${index}]`, label)),
  };
}

/** Validates a parsed manifest.json; throws E_STORE_MANIFEST naming the first problem. */
export function parseStoreManifest(value: unknown, label = STORE_MANIFEST_FILE): StoreManifest {
  if (!isObject(value)) manifestError(label, 'the manifest is not a JSON object');
  if (value.formatVersion !== STORE_FORMAT_VERSION) {
    manifestError(label, `formatVersion is ${JSON.stringify(value.formatVersion)}, this lora-tle reads version ${STORE_FORMAT_VERSION}`);
  }
  if (!Array.isArray(value.adapters)) manifestError(label, 'adapters must be a list');
  const adapters = value.adapters.map((entry, index) => parseAdapterEntry(entry, `adapters[${index}]`, label));
  const names = new Set<string>();
  for (const adapter of adapters) {
    if (names.has(adapter.name)) manifestError(label, `adapter "${adapter.name}" appears twice`);
    names.add(adapter.name);
  }
  return { formatVersion: STORE_FORMAT_VERSION, adapters };
}

/** The manifest as written to disk. */
export function serializeStoreManifest(manifest: StoreManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
