// `lora-tle profile`: builds an adapter's routing profile — the mean embedding of its formatted
// training examples — and saves it in the adapter store. Progress bar on stderr.
// With `--embedder hashing` and a store whose hashing profiles were fitted (`lora-tle store fit`,
// the embedded default), the new profile reuses the store's fit, so every profile still matches
// the one embedder routing restores; the fit is not redone (it needs every adapter's data: that is
// `store fit`). A store without hashing profiles gets an unfitted profile. `--embedder hidden`
// embeds with a model pack's base model (`--pack`, default the embedded tiny-tle pack).

import { Command } from 'commander';
import { findAdapter, openStore, type AdapterStore } from '@lora-tle/lora-store/node';
import { openStoreHashingEmbedder } from '@lora-tle/router';
import type { Embedder } from '@lora-tle/spec';
import { createEmbedderByName, type EmbeddingModel } from '../generation-runtime.js';
import { parsePositiveInteger } from '../options.js';
import { buildStoreProfile } from '../store-profiles.js';
import type { CliCommand } from './command.js';
import { withEmbedderPack } from './eval.js';

interface ProfileFlags {
  store: string;
  adapter: string;
  data: string;
  format?: string;
  embedder: string;
  pack?: string;
  bank?: number;
}

/** `hashing` on a store with hashing profiles: the embedder that made them (its fit, if any). */
async function profileEmbedder(store: AdapterStore, name: string, model?: EmbeddingModel): Promise<Embedder> {
  const hasHashingProfiles = store.manifest.adapters.some((adapter) => adapter.profiles.some((profile) => profile.embedder.id === 'hashing'));
  if (name === 'hashing' && hasHashingProfiles) return openStoreHashingEmbedder(store);
  return createEmbedderByName(name, model);
}

export const profileCommand: CliCommand = {
  name: 'profile',
  create: ({ terminal }) =>
    new Command('profile')
      .description("build an adapter's routing profile from its training data and save it in the store")
      .requiredOption('--store <dir>', 'adapter store')
      .requiredOption('--adapter <name>', 'adapter in the store')
      .requiredOption('--data <jsonl>', 'training items, one JSON object per line')
      .option('--format <template>', "gsm8k | arc | codealpaca | squad | a {field} template (default: the adapter's template in the store)")
      .option('--embedder <name>', 'context embedder: hashing, or hidden (the pack\'s base model)', 'hashing')
      .option('--pack <dir>', 'model pack for --embedder hidden (default: the embedded tiny-tle pack)')
      .option('--bank <n>', 'also keep n example embeddings for knn routing', (value) => parsePositiveInteger('--bank', value))
      .action(async (flags: ProfileFlags) => {
        const store = await openStore(flags.store);
        const entry = findAdapter(store, flags.adapter);
        const saved = await withEmbedderPack(flags.embedder, flags.pack, terminal, async (model) =>
          buildStoreProfile(
            store,
            { adapter: entry.name, dataFile: flags.data, template: flags.format ?? entry.template, embedder: await profileEmbedder(store, flags.embedder, model), bankSize: flags.bank ?? 0 },
            terminal,
          ),
        );
        const fit = saved.embedder.settings['fit'];
        const embedderText = typeof fit === 'string' ? `${saved.embedder.id} (the store's fit ${fit})` : saved.embedder.id;
        terminal.stdout(`profile of "${entry.name}": ${saved.count} examples, embedder ${embedderText} → ${saved.file}\n`);
      }),
};
