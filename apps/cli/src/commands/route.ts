// `lora-tle route`: the router alone — embeds texts and prints each one's adapter weights and top
// adapter (JSON lines `{ id, weights, top }` with --json). No model is loaded, except the pack
// that `--embedder hidden` embeds with (`--pack`, default the embedded tiny-tle pack).

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadProfiles, openStore } from '@lora-tle/lora-store/node';
import { createRouter } from '@lora-tle/router';
import { LoraTleError } from '@lora-tle/spec';
import { openStoreEmbedder } from '../generation-runtime.js';
import type { CliCommand } from './command.js';
import { withEmbedderPack } from './eval.js';

interface RouteFlags {
  store: string;
  text?: string;
  input?: string;
  json?: boolean;
  embedder: string;
  pack?: string;
  strategy: string;
}

function readInputs(flags: RouteFlags): { id: string; text: string }[] {
  if ((flags.text === undefined) === (flags.input === undefined)) {
    throw new LoraTleError('E_USAGE', 'give exactly one of --text <text> or --input <jsonl of {id, text}>');
  }
  if (flags.text !== undefined) return [{ id: 'text', text: flags.text }];
  let jsonl: string;
  try {
    jsonl = readFileSync(flags.input!, 'utf8');
  } catch (cause) {
    throw new LoraTleError('E_NOT_FOUND', `cannot read --input ${flags.input}: ${(cause as Error).message}`, { cause });
  }
  const inputs: { id: string; text: string }[] = [];
  jsonl.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (cause) {
      throw new LoraTleError('E_JSON', `${flags.input} line ${index + 1} is not valid JSON; each line must be {"id": ..., "text": ...}`, { cause });
    }
    const record = item as { id?: unknown; text?: unknown };
    if (typeof record !== 'object' || record === null || typeof record.text !== 'string') {
      throw new LoraTleError('E_JSON', `${flags.input} line ${index + 1} has no string "text"; each line must be {"id": ..., "text": ...}`);
    }
    inputs.push({ id: record.id === undefined ? String(index + 1) : String(record.id), text: record.text });
  });
  return inputs;
}

export const routeCommand: CliCommand = {
  name: 'route',
  create: ({ terminal }) =>
    new Command('route')
      .description('print the adapter weights the router gives each text (no model needed, except for --embedder hidden)')
      .requiredOption('--store <dir>', 'adapter store with profiles')
      .option('--text <text>', 'one text to route')
      .option('--input <jsonl>', 'texts to route, one {"id", "text"} object per line')
      .option('--embedder <name>', 'context embedder: hashing, or hidden (the pack\'s base model)', 'hashing')
      .option('--pack <dir>', 'model pack for --embedder hidden (default: the embedded tiny-tle pack)')
      .option('--strategy <spec>', 'routing strategy: paper, softmax[:T], top-k:<k>, knn, uniform, base, fixed:<adapter>', 'paper')
      .option('--json', 'JSON lines { id, weights, top }')
      .action(async (flags: RouteFlags) => {
        const inputs = readInputs(flags);
        const store = await openStore(flags.store);
        await withEmbedderPack(flags.embedder, flags.pack, terminal, async (model) => {
          const embedder = await openStoreEmbedder(store, flags.embedder, model); // hashing: with the store's fit, if it has one
          const profiles = await loadProfiles(store, embedder);
          const router = createRouter({ embedder, profiles, strategy: flags.strategy, schedule: 'token' });
          try {
            for (const { id, text } of inputs) {
              const mix = await router.route({ text, tokenIds: [], step: 0 });
              const weights = Object.fromEntries(router.adapters.map((name, i) => [name, Math.round(mix!.weights[i]! * 1e4) / 1e4]));
              let top = 0;
              mix!.weights.forEach((weight, i) => (top = weight > mix!.weights[top]! ? i : top));
              const topName = router.adapters[top]!;
              if (flags.json) terminal.stdout(`${JSON.stringify({ id, weights, top: topName })}\n`);
              else terminal.stdout(`${id}\t${topName}\t${Object.entries(weights).map(([name, w]) => `${name} ${w.toFixed(3)}`).join(' · ')}\n`);
            }
          } finally {
            await router.dispose(); // with the hidden embedder it holds a KV cache
          }
        });
      }),
};
