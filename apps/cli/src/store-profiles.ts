// The CLI's glue between the adapter store (@lora-tle/lora-store/node) and routing profiles
// (@lora-tle/router): read a pack's adapter weights from the store, build one profile from a JSONL
// file with progress, and create a whole store with profiles fitted over all its adapters (the
// embedded default). Not the store format (lora-store) nor the profile math (router).

import { addAdapter, adapterDirectory, findAdapter, initStore, loadPeftAdapter, openStore, saveProfile, type AdapterStore } from '@lora-tle/lora-store/node';
import { buildFittedProfiles, buildProfile, readJsonlTexts, saveHashingFit } from '@lora-tle/router';
import type { Embedder, LoraModuleWeights, StoreProfileEntry } from '@lora-tle/spec';
import type { Terminal } from './terminal.js';

/** The LoRA factors of `adapters` (pack order) from the store's adapter directories (naive mode). */
export async function loadStoreAdapterWeights(storeDir: string, adapters: readonly string[]): Promise<LoraModuleWeights[][]> {
  const store = await openStore(storeDir);
  const weights: LoraModuleWeights[][] = [];
  for (const name of adapters) {
    const adapter = await loadPeftAdapter(adapterDirectory(store, findAdapter(store, name)));
    try {
      weights.push(await adapter.readModules());
    } finally {
      await adapter.close();
    }
  }
  return weights;
}

export interface ProfileToBuild {
  adapter: string;
  dataFile: string; // JSONL of training items
  template: string; // built-in template name or a {field} template text
  embedder: Embedder;
  bankSize?: number;
}

/** Formats the items, embeds them with a progress bar on stderr, saves the profile in the store. */
export async function buildStoreProfile(store: AdapterStore, input: ProfileToBuild, terminal: Terminal): Promise<StoreProfileEntry> {
  const texts = await readJsonlTexts(input.dataFile, input.template);
  const progress = terminal.progress(`profile ${input.adapter}`, texts.length);
  try {
    const profile = await buildProfile({
      adapter: input.adapter,
      embedder: input.embedder,
      texts,
      bankSize: input.bankSize ?? 0,
      onProgress: ({ done }) => progress.update(done),
    });
    return await saveProfile(store, profile);
  } finally {
    progress.stop();
  }
}

export interface StoreAdapterToAdd {
  name: string;
  adapterDir: string;
  task: string;
  template: string;
  dataFile: string; // JSONL of training items, formatted with `template` for the profile
}

/**
 * Fits the hashing embedder over the formatted training texts of every adapter in `dataFiles`
 * (adapter name → JSONL, formatted with the adapter's template in the store), saves the fit in the
 * store (embedders/) and replaces each of those adapters' `hashing` profile with one made by the fit.
 * Returns the fit hash. Callers pass every adapter of the store: a profile made with another fit
 * would be refused next to these.
 */
export async function fitStoreProfiles(
  store: AdapterStore,
  dataFiles: Readonly<Record<string, string>>,
  terminal: Terminal,
  bankSize = 64,
): Promise<string> {
  const textsByAdapter: Record<string, string[]> = {};
  for (const [name, dataFile] of Object.entries(dataFiles)) textsByAdapter[name] = await readJsonlTexts(dataFile, findAdapter(store, name).template);
  let bar: ReturnType<Terminal['progress']> | null = null;
  let barAdapter = '';
  try {
    const { embedder, profiles } = await buildFittedProfiles({
      textsByAdapter,
      bankSize,
      onProgress: ({ adapter, done, total }) => {
        if (adapter !== barAdapter) {
          bar?.stop();
          bar = terminal.progress(`profile ${adapter}`, total);
          barAdapter = adapter;
        }
        bar!.update(done);
      },
    });
    await saveHashingFit(store, embedder);
    for (const profile of profiles) await saveProfile(store, profile);
    return embedder.settings['fit'] as string;
  } finally {
    (bar as ReturnType<Terminal['progress']> | null)?.stop();
  }
}

/** A new store with every adapter and its fitted `hashing` profile (bank of 64): the embedded default. */
export async function createStoreWithProfiles(options: {
  storeDir: string;
  adapters: readonly StoreAdapterToAdd[];
  terminal: Terminal;
}): Promise<void> {
  const store = await initStore(options.storeDir);
  for (const adapter of options.adapters) {
    await addAdapter(store, { name: adapter.name, adapterDir: adapter.adapterDir, task: adapter.task, template: adapter.template });
  }
  await fitStoreProfiles(store, Object.fromEntries(options.adapters.map((adapter) => [adapter.name, adapter.dataFile])), options.terminal);
}
