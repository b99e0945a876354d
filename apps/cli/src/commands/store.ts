// `lora-tle store init|add|list|remove|validate --store <dir>`: manage an adapter store (a
// manifest naming PEFT adapters and their routing profiles). Thin over @lora-tle/lora-store/node.

import { Command } from 'commander';
import { addAdapter, initStore, listAdapters, openStore, removeAdapter, validateStore } from '@lora-tle/lora-store/node';
import { LoraTleError } from '@lora-tle/spec';
import type { CliCommand } from './command.js';

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
    return store;
  },
};
