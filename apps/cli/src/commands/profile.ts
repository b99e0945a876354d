// `lora-tle profile`: builds an adapter's routing profile — the mean embedding of its formatted
// training examples — and saves it in the adapter store. Progress bar on stderr.

import { Command } from 'commander';
import { findAdapter, openStore } from '@lora-tle/lora-store/node';
import { createEmbedderByName } from '../generation-runtime.js';
import { parsePositiveInteger } from '../options.js';
import { buildStoreProfile } from '../store-profiles.js';
import type { CliCommand } from './command.js';

interface ProfileFlags {
  store: string;
  adapter: string;
  data: string;
  format?: string;
  embedder: string;
  bank?: number;
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
      .option('--embedder <name>', 'context embedder', 'hashing')
      .option('--bank <n>', 'also keep n example embeddings for knn routing', (value) => parsePositiveInteger('--bank', value))
      .action(async (flags: ProfileFlags) => {
        const store = await openStore(flags.store);
        const entry = findAdapter(store, flags.adapter);
        const embedder = createEmbedderByName(flags.embedder);
        const saved = await buildStoreProfile(
          store,
          { adapter: entry.name, dataFile: flags.data, template: flags.format ?? entry.template, embedder, bankSize: flags.bank ?? 0 },
          terminal,
        );
        terminal.stdout(`profile of "${entry.name}": ${saved.count} examples, embedder ${saved.embedder.id} → ${saved.file}\n`);
      }),
};
