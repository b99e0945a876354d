// The CLI's glue between the adapter store (@lora-tle/lora-store/node) and routing profiles
// (@lora-tle/router): load the profiles a pack's adapters need, build one profile from a JSONL
// file with progress, and create a whole store with profiles (the embedded default). Not the store
// format (lora-store) nor the profile math (router).

import { addAdapter, adapterDirectory, findAdapter, initStore, loadPeftAdapter, loadProfiles, openStore, saveProfile, type AdapterStore } from '@lora-tle/lora-store/node';
import { buildProfile, readJsonlTexts } from '@lora-tle/router';
import type { Embedder, LoraModuleWeights, StoreProfileEntry, TaskProfile } from '@lora-tle/spec';
import type { Terminal } from './terminal.js';

export async function loadStoreProfiles(storeDir: string, adapters: readonly string[], embedder: Embedder): Promise<TaskProfile[]> {
  return loadProfiles(await openStore(storeDir), embedder, adapters);
}

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

export async function createStoreWithProfiles(options: {
  storeDir: string;
  embedder: Embedder;
  adapters: readonly StoreAdapterToAdd[];
  terminal: Terminal;
}): Promise<void> {
  const store = await initStore(options.storeDir);
  for (const adapter of options.adapters) {
    await addAdapter(store, { name: adapter.name, adapterDir: adapter.adapterDir, task: adapter.task, template: adapter.template });
    await buildStoreProfile(store, { adapter: adapter.name, dataFile: adapter.dataFile, template: adapter.template, embedder: options.embedder, bankSize: 64 }, options.terminal);
  }
}
