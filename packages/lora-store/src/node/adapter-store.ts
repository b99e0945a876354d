// Node only: the adapter store on disk — a directory with manifest.json naming PEFT adapters
// (copied in under adapters/<name>/ or referenced where they are) and their routing profiles
// (profiles/, see store-profiles.ts). Every manifest change is read-modify-write, written atomically.

import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LoraTleError, STORE_FORMAT_VERSION, type LlamaArchitecture, type StoreAdapterEntry, type StoreManifest } from '@lora-tle/spec';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../peft-adapter.js';
import { assertStoreName, parseStoreManifest, serializeStoreManifest, STORE_MANIFEST_FILE } from '../store-manifest.js';
import { hashAdapterFiles } from './adapter-hash.js';
import { temporarySibling, writeFileAtomic } from './atomic-write.js';
import { loadPeftAdapter } from './peft-dir.js';

export interface AdapterStore {
  readonly root: string; // absolute
  /** The manifest as of the last read or write through this handle. */
  manifest: StoreManifest;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Absolute directory of an adapter entry (its path is relative to the store root or absolute). */
export function adapterDirectory(store: AdapterStore, entry: StoreAdapterEntry): string {
  return isAbsolute(entry.path) ? entry.path : join(store.root, entry.path);
}

async function readManifest(root: string): Promise<StoreManifest> {
  const path = join(root, STORE_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new LoraTleError('E_STORE_MANIFEST', `${root} is not an adapter store (no readable ${STORE_MANIFEST_FILE}); create one with initStore / \`lora-tle store init\``, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new LoraTleError('E_STORE_MANIFEST', `${path} is not valid JSON (${(cause as Error).message}); fix it or re-create the store`, { cause });
  }
  return parseStoreManifest(json, path);
}

/** Re-reads the manifest, applies `change`, writes it atomically and updates the handle. */
export async function updateManifest(store: AdapterStore, change: (manifest: StoreManifest) => void): Promise<StoreManifest> {
  const manifest = await readManifest(store.root);
  change(manifest);
  await writeFileAtomic(join(store.root, STORE_MANIFEST_FILE), serializeStoreManifest(parseStoreManifest(manifest)));
  store.manifest = manifest;
  return manifest;
}

/** Creates an empty store in `dir` (created if needed); refuses a directory that already has a manifest. */
export async function initStore(dir: string): Promise<AdapterStore> {
  const root = resolve(dir);
  if (await exists(join(root, STORE_MANIFEST_FILE))) {
    throw new LoraTleError('E_OUTPUT_EXISTS', `${root} already holds an adapter store; open it with openStore instead`);
  }
  const manifest: StoreManifest = { formatVersion: STORE_FORMAT_VERSION, adapters: [] };
  await mkdir(root, { recursive: true });
  await writeFileAtomic(join(root, STORE_MANIFEST_FILE), serializeStoreManifest(manifest));
  return { root, manifest };
}

/** Opens an existing store; E_STORE_MANIFEST when manifest.json is missing or invalid. */
export async function openStore(dir: string): Promise<AdapterStore> {
  const root = resolve(dir);
  return { root, manifest: await readManifest(root) };
}

export interface AddAdapterInput {
  name: string;
  adapterDir: string;
  task: string;
  template: string;
  /** Copy the two adapter files into the store (adapters/<name>/) instead of referencing them. */
  copy?: boolean;
  /** Also check the adapter against this base model. */
  base?: LlamaArchitecture;
}

/** Validates the adapter, hashes it and records it (copying it in when asked). */
export async function addAdapter(store: AdapterStore, input: AddAdapterInput): Promise<StoreAdapterEntry> {
  assertStoreName(input.name);
  const duplicate = () => new LoraTleError('E_STORE_ADAPTER_EXISTS', `the store already has an adapter named "${input.name}"; remove it first or pick another name`);
  if ((await readManifest(store.root)).adapters.some((entry) => entry.name === input.name)) throw duplicate();
  const source = resolve(input.adapterDir);
  const adapter = await loadPeftAdapter(source, input.base ? { base: input.base } : {});
  await adapter.close();

  let path: string;
  if (input.copy) {
    path = `adapters/${input.name}`;
    const target = join(store.root, path);
    if (await exists(target)) throw new LoraTleError('E_OUTPUT_EXISTS', `${target} already exists; remove it or choose another adapter name`);
    await mkdir(join(store.root, 'adapters'), { recursive: true });
    const partial = temporarySibling(target);
    try {
      await mkdir(partial);
      for (const file of [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]) await copyFile(join(source, file), join(partial, file));
      await rename(partial, target);
    } catch (cause) {
      await rm(partial, { recursive: true, force: true });
      throw new LoraTleError('E_IO', `cannot copy ${source} into the store: ${(cause as Error).message}`, { cause });
    }
  } else {
    const inside = relative(store.root, source);
    path = inside !== '' && !inside.startsWith(`..`) && !isAbsolute(inside) ? inside.split(sep).join('/') : source;
  }
  const entry: StoreAdapterEntry = {
    name: input.name,
    path,
    task: input.task,
    template: input.template,
    contentHash: await hashAdapterFiles(adapterDirectory(store, { path } as StoreAdapterEntry)),
    profiles: [],
  };
  await updateManifest(store, (manifest) => {
    if (manifest.adapters.some((existing) => existing.name === entry.name)) throw duplicate();
    manifest.adapters.push(entry);
  });
  return entry;
}

export function listAdapters(store: AdapterStore): StoreAdapterEntry[] {
  return store.manifest.adapters.map((entry) => ({ ...entry, profiles: [...entry.profiles] }));
}

/** The entry named `name`; E_UNKNOWN_ADAPTER when the store has none. */
export function findAdapter(store: AdapterStore, name: string): StoreAdapterEntry {
  const entry = store.manifest.adapters.find((candidate) => candidate.name === name);
  if (!entry) {
    const known = store.manifest.adapters.map((candidate) => candidate.name).join(', ') || '(none)';
    throw new LoraTleError('E_UNKNOWN_ADAPTER', `the store at ${store.root} has no adapter "${name}" (it has: ${known}); add it with addAdapter / \`lora-tle store add\``);
  }
  return entry;
}

/** Removes the entry and its profile files; files copied into the store are deleted too, referenced ones are left alone. */
export async function removeAdapter(store: AdapterStore, name: string): Promise<void> {
  let removed: StoreAdapterEntry | undefined;
  await updateManifest(store, (manifest) => {
    const index = manifest.adapters.findIndex((entry) => entry.name === name);
    if (index < 0) throw new LoraTleError('E_UNKNOWN_ADAPTER', `the store at ${store.root} has no adapter "${name}"`);
    [removed] = manifest.adapters.splice(index, 1);
  });
  if (!removed) return;
  for (const profile of removed.profiles) await rm(join(store.root, profile.file), { force: true });
  if (removed.path === `adapters/${name}`) await rm(join(store.root, removed.path), { recursive: true, force: true });
}

export interface StoreIssue {
  adapter: string;
  code: 'E_STORE_FILES_MISSING' | 'E_STORE_HASH';
  message: string;
}

export interface StoreValidationReport {
  ok: boolean;
  adapters: number;
  issues: StoreIssue[];
}

/** Checks every adapter's files exist and are unchanged (hash) and every profile file exists. */
export async function validateStore(store: AdapterStore): Promise<StoreValidationReport> {
  store.manifest = await readManifest(store.root);
  const issues: StoreIssue[] = [];
  for (const entry of store.manifest.adapters) {
    const dir = adapterDirectory(store, entry);
    const missing = [];
    for (const file of [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]) if (!(await exists(join(dir, file)))) missing.push(join(dir, file));
    for (const profile of entry.profiles) if (!(await exists(join(store.root, profile.file)))) missing.push(join(store.root, profile.file));
    if (missing.length > 0) {
      issues.push({ adapter: entry.name, code: 'E_STORE_FILES_MISSING', message: `adapter "${entry.name}": missing ${missing.join(', ')}; restore the files or remove the adapter` });
    }
    if (missing.some((path) => path.startsWith(dir))) continue;
    const hash = await hashAdapterFiles(dir);
    if (hash !== entry.contentHash) {
      issues.push({ adapter: entry.name, code: 'E_STORE_HASH', message: `adapter "${entry.name}": files in ${dir} changed since they were added (sha256 ${hash.slice(0, 12)}…, recorded ${entry.contentHash.slice(0, 12)}…); remove and re-add it, then rebuild its profiles` });
    }
  }
  return { ok: issues.length === 0, adapters: store.manifest.adapters.length, issues };
}

/** validateStore, throwing the first issue as a LoraTleError. */
export async function assertStoreValid(store: AdapterStore): Promise<void> {
  const [issue] = (await validateStore(store)).issues;
  if (issue) throw new LoraTleError(issue.code, issue.message, { details: { adapter: issue.adapter } });
}
