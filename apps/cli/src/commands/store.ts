// `lora-tle store init|add|list|remove|validate|fit --store <dir>`: manage an adapter store (a
// manifest naming PEFT adapters and their routing profiles). Thin over @lora-tle/lora-store/node;
// `fit` refits the hashing embedder over every adapter's data (store-profiles.ts).

import { Command } from 'commander';
import { addAdapter, initStore, listAdapters, openStore, removeAdapter, validateStore } from '@lora-tle/lora-store/node';
import { LoraTleError } from '@lora-tle/spec';
import { collect, parsePositiveInteger } from '../options.js';
import { fitStoreProfiles } from '../store-profiles.js';
import type { CliCommand } from './command.js';

/** `--data name=jsonl` values → name → file; every adapter of the store must have one, no others. */
function dataFilesFor(adapterNames: readonly string[], values: readonly string[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const value of values) {
    const split = value.indexOf('=');
    if (split <= 0 || split === value.length - 1) throw new LoraTleError('E_USAGE', `--data ${value}: expected <adapter>=<jsonl>, e.g. --data math=gsm8k/train.jsonl`);
    const name = value.slice(0, split);
    if (!adapterNames.includes(name)) throw new LoraTleError('E_UNKNOWN_ADAPTER', `--data ${value}: the store has no adapter "${name}" (it has ${adapterNames.join(', ') || 'none'})`);
    if (name in files) throw new LoraTleError('E_USAGE', `--data names adapter "${name}" twice; give one training file per adapter`);
    files[name] = value.slice(split + 1);
  }
  const missing = adapterNames.filter((name) => !(name in files));
  if (missing.length > 0) {
    throw new LoraTleError('E_USAGE', `the fit needs every adapter's training data; add --data ${missing.map((name) => `${name}=<jsonl>`).join(' --data ')}`);
  }
  return files;
}

export const storeCommand: CliCommand = {
  name: 'store',
  create: ({ terminal }) => {
    const store = new Command('store').description('manage an adapter store: adapters and their routing profiles');
    store
      .command('init')
      .description('create an empty adapter store')
      .requiredOption('--store <dir>', 'store directory (created if needed)')
      .action(async ({ store: dir }: { store: string }) => {
        const created = await initStore(dir);
        terminal.stdout(`created an empty adapter store at ${created.root}\n`);
      });
    store
      .command('add')
      .description('add a PEFT LoRA adapter directory to the store')
      .requiredOption('--store <dir>', 'store directory')
      .requiredOption('--name <name>', 'the name routing and --mode adapter:<name> use')
      .requiredOption('--adapter <dir>', 'PEFT adapter directory (adapter_config.json + adapter_model.safetensors)')
      .option('--task <text>', 'what the adapter is for', '')
      .option('--format <template>', 'prompt template of its training data: gsm8k, arc, codealpaca, squad or a {field} template', 'gsm8k')
      .option('--copy', 'copy the adapter files into the store instead of referencing them')
      .action(async (flags: { store: string; name: string; adapter: string; task: string; format: string; copy?: boolean }) => {
        const opened = await openStore(flags.store);
        const entry = await addAdapter(opened, { name: flags.name, adapterDir: flags.adapter, task: flags.task, template: flags.format, copy: flags.copy === true });
        terminal.stdout(`added adapter "${entry.name}" (${entry.path}, sha256 ${entry.contentHash.slice(0, 12)}…); build its routing profile with \`lora-tle profile\`\n`);
      });
    store
      .command('list')
      .description('list the adapters and their profiles')
      .requiredOption('--store <dir>', 'store directory')
      .option('--json', 'one JSON object per adapter')
      .action(async (flags: { store: string; json?: boolean }) => {
        const entries = listAdapters(await openStore(flags.store));
        for (const entry of entries) {
          if (flags.json) {
            terminal.stdout(`${JSON.stringify(entry)}\n`);
            continue;
          }
          const profiles = entry.profiles.map((profile) => `${profile.embedder.id} (${profile.count} examples${profile.hasBank ? ', bank' : ''})`).join(', ') || 'no profile';
          terminal.stdout(`${entry.name}\t${entry.template}\t${profiles}\t${entry.task}\n`);
        }
        if (!flags.json && entries.length === 0) terminal.stdout('the store is empty; add adapters with `lora-tle store add`\n');
      });
    store
      .command('remove')
      .description('remove an adapter and its profiles from the store')
      .requiredOption('--store <dir>', 'store directory')
      .requiredOption('--name <name>', 'adapter to remove')
      .action(async (flags: { store: string; name: string }) => {
        await removeAdapter(await openStore(flags.store), flags.name);
        terminal.stdout(`removed adapter "${flags.name}"\n`);
      });
    store
      .command('validate')
      .description('check that every adapter and profile file exists and is unchanged')
      .requiredOption('--store <dir>', 'store directory')
      .action(async (flags: { store: string }) => {
        const report = await validateStore(await openStore(flags.store));
        if (report.ok) {
          terminal.stdout(`ok: ${report.adapters} adapters, all files present and unchanged\n`);
          return;
        }
        for (const issue of report.issues.slice(1)) terminal.stdout(`[${issue.code}] ${issue.message}\n`);
        const first = report.issues[0]!;
        throw new LoraTleError(first.code, report.issues.length > 1 ? `${first.message} (and ${report.issues.length - 1} more issues above)` : first.message);
      });
    store
      .command('fit')
      .description("fit the hashing embedder over every adapter's training data and rebuild all hashing profiles with it")
      .requiredOption('--store <dir>', 'store directory')
      .option('--data <adapter=jsonl>', "an adapter's training items (JSONL, formatted with its template in the store); repeat for every adapter", collect)
      .option('--bank <n>', 'also keep n example embeddings per adapter for knn routing', (value) => parsePositiveInteger('--bank', value))
      .action(async (flags: { store: string; data?: string[]; bank?: number }) => {
        const opened = await openStore(flags.store);
        const names = opened.manifest.adapters.map((entry) => entry.name);
        if (names.length === 0) throw new LoraTleError('E_USAGE', 'the store is empty; add adapters with `lora-tle store add` first');
        const fit = await fitStoreProfiles(opened, dataFilesFor(names, flags.data ?? []), terminal, flags.bank ?? 0);
        terminal.stdout(`fitted the hashing embedder (fit ${fit}) over ${names.length} adapters and rebuilt their profiles: ${names.join(', ')}\n`);
      });
    return store;
  },
};
