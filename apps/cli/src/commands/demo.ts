// `lora-tle demo`: the embedded tiny-tle default (built into the cache on first run), four sample
// prompts — one per task, from the tiny-tle test split — generated with token-level routing. On a
// colour terminal each token is coloured by its dominant adapter (with a legend); otherwise each
// prompt gets a plain per-token summary: runs of tokens with the adapter that dominated them.
// Every prompt ends with the item's reference answer, whether the eval's scorer counts the output
// correct, and the mean routing weights. Not `generate` (one prompt, any pack).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { DoneEvent, KvPolicy, TokenEvent } from '@lora-tle/engine';
import { type EvalItem, extractMathAnswer, scoreOutputs, type TaskKind, toEvalItem } from '@lora-tle/eval';
import { LoraTleError } from '@lora-tle/spec';
import { EMBEDDED_TASKS, ensureEmbeddedDefault } from '../embedded-default.js';
import { openGenerationRuntime, parseBackend, type CliBackend } from '../generation-runtime.js';
import { parsePositiveInteger } from '../options.js';
import type { Colors, Terminal } from '../terminal.js';
import type { CliCommand } from './command.js';

interface DemoFlags {
  maxNewTokens: number;
  mode: string;
  kv: KvPolicy;
  backend?: CliBackend;
}

/** The first item of each task's test split as the eval reads it (prompt in that adapter's template, gold answer, code tests). */
export function demoItems(fixtureDir: string): { task: TaskKind; item: EvalItem }[] {
  return EMBEDDED_TASKS.map(({ name }) => {
    const file = join(fixtureDir, 'data', name, 'test.jsonl');
    let firstLine: string | undefined;
    try {
      firstLine = readFileSync(file, 'utf8').split('\n').find((line) => line.trim() !== '');
    } catch (cause) {
      throw new LoraTleError('E_NOT_FOUND', `cannot read the demo prompts from ${file}; regenerate the tiny-tle fixture`, { cause });
    }
    if (firstLine === undefined) throw new LoraTleError('E_SUITE', `${file} is empty; regenerate the tiny-tle fixture`);
    return { task: name, item: toEvalItem(name, name, 0, JSON.parse(firstLine) as Record<string, unknown>) };
  });
}

/** The first item of each task's test split, formatted as that adapter's prompt. */
export function demoPrompts(fixtureDir: string): { task: string; prompt: string }[] {
  return demoItems(fixtureDir).map(({ task, item }) => ({ task, prompt: item.prompt }));
}

/** What the scorer compares with, for display: the number after ####, the letter, the span; code is scored by its tests. */
export function referenceAnswer(task: TaskKind, item: EvalItem): string {
  if (task === 'math') return extractMathAnswer(item.gold) ?? item.gold;
  if (task === 'code') return item.tests ? `passes the item's ${item.tests.length} hidden tests of ${item.entryPoint}` : item.gold;
  return item.gold;
}

/** `reference: … · correct|wrong` as the eval scores the whole output; not scored when cut at the token limit. */
async function verdictLine(task: TaskKind, item: EvalItem, done: DoneEvent, colors: Colors): Promise<string> {
  const reference = `${colors.dim('reference:')} ${referenceAnswer(task, item)}`;
  if (done.finishReason !== 'eos' && done.finishReason !== 'stop') return `${reference} · ${colors.dim(`not scored (${done.finishReason}: raise --max-new-tokens)`)}`;
  const [score] = await scoreOutputs(task, [item], [(done.text + done.tail).trim()]);
  return `${reference} · ${score?.correct ? colors.green('correct') : colors.red('wrong')}`;
}

export function dominantAdapter(step: TokenEvent): number {
  let best = 0;
  step.mix.weights.forEach((weight, i) => {
    if (weight > step.mix.weights[best]!) best = i;
  });
  return best;
}

/** Runs of consecutive tokens with the same dominant adapter: `math ×12 "text…"`. */
export function dominantRuns(steps: readonly TokenEvent[], adapters: readonly string[]): { adapter: string; count: number; text: string }[] {
  const runs: { adapter: string; count: number; text: string }[] = [];
  for (const step of steps) {
    const adapter = adapters[dominantAdapter(step)]!;
    const last = runs.at(-1);
    if (last && last.adapter === adapter) {
      last.count++;
      last.text += step.text;
    } else {
      runs.push({ adapter, count: 1, text: step.text });
    }
  }
  return runs;
}

export function meanWeights(steps: readonly TokenEvent[], adapterCount: number): number[] {
  const sums = new Array<number>(adapterCount).fill(0);
  for (const step of steps) step.mix.weights.forEach((weight, i) => (sums[i]! += weight));
  return sums.map((sum) => (steps.length === 0 ? 0 : sum / steps.length));
}

export function paletteFor(colors: Colors): ((text: string) => string)[] {
  return [colors.cyan, colors.magenta, colors.yellow, colors.green, colors.blue, colors.red];
}

/** `fixtureDir` replaces the tiny-tle fixture (tests build a synthetic one); `env` names the cache (LORA_TLE_CACHE). */
export async function runDemo(flags: DemoFlags, terminal: Terminal, fixtureDir?: string, env: Record<string, string | undefined> = process.env): Promise<void> {
  const embedded = await ensureEmbeddedDefault(terminal, env, fixtureDir);
  const runtime = await openGenerationRuntime({ packDir: embedded.packDir, storeDir: embedded.storeDir, backend: flags.backend });
  const colors = terminal.outputColors;
  const coloured = colors.isColorSupported;
  const adapters = runtime.engine.adapters;
  const palette = paletteFor(colors);
  const paint = (index: number, text: string) => palette[index % palette.length]!(text);
  try {
    if (coloured) terminal.stdout(`${colors.bold('legend:')} ${adapters.map((name, i) => paint(i, `■ ${name}`)).join('  ')}\n`);
    terminal.stdout(`${colors.dim(`pack ${embedded.packDir} · ${runtime.session.device} · mode ${flags.mode} · kv ${flags.kv}`)}\n`);
    for (const { task, item } of demoItems(embedded.fixtureDir)) {
      const prompt = item.prompt;
      terminal.stdout(`\n${colors.bold(`── ${task} ──`)}\n${colors.dim(prompt)}`);
      const steps: TokenEvent[] = [];
      let done: DoneEvent | null = null;
      for await (const event of runtime.engine.generate({ prompt, mode: flags.mode, maxNewTokens: flags.maxNewTokens, kv: flags.kv, stop: ['\n\nQuestion:', '\n\nContext:'] })) {
        if (event.type === 'token') {
          steps.push(event);
          terminal.stdout(coloured ? paint(dominantAdapter(event), event.text) : event.text);
        } else {
          done = event;
        }
      }
      if (done === null) throw new LoraTleError('E_ABORTED', `the ${task} sample ended without a result`);
      const summary = `${done.tokenIds.length} token${done.tokenIds.length === 1 ? '' : 's'}, ${done.finishReason}, ${done.timing.tokensPerSecond.toFixed(0)} tok/s`;
      terminal.stdout(`${done.tail}\n${await verdictLine(task, item, done, colors)}\n`);
      if (!coloured) {
        const runs = dominantRuns(steps, adapters).map((run) => `${run.adapter} ×${run.count} ${JSON.stringify(run.text)}`);
        terminal.stdout(`dominant adapter by token: ${runs.join(' · ')}\n`);
      }
      const means = meanWeights(steps, adapters.length);
      const weights = adapters.map((name, i) => (coloured ? paint(i, `${name} ${means[i]!.toFixed(2)}`) : `${name} ${means[i]!.toFixed(2)}`)).join(' · ');
      terminal.stdout(`${colors.dim('mean weights:')} ${weights}  ${colors.dim(`(${summary})`)}\n`);
    }
  } finally {
    await runtime.close();
  }
}

export const demoCommand: CliCommand = {
  name: 'demo',
  create: ({ terminal }) =>
    new Command('demo')
      .description('token-level routing on the embedded tiny-tle model: four prompts, tokens coloured by their dominant adapter, each answer with its reference answer and the eval verdict')
      .option('--max-new-tokens <n>', 'tokens per prompt at most', (value) => parsePositiveInteger('--max-new-tokens', value), 48)
      .option('--mode <mode>', 'routing mode: token | prompt | every:<k> | base | uniform | adapter:<name>', 'token')
      .addOption(new Option('--kv <policy>', 'KV cache policy').choices(['reuse', 'recompute']).default('reuse'))
      .option('--backend <name>', 'backend: node (onnxruntime-node) or simd (WebAssembly SIMD kernels, one thread; faster decoding for small models)', parseBackend, 'node')
      .action((flags: DemoFlags) => runDemo(flags, terminal)),
};
