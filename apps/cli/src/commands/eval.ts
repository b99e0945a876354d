// `lora-tle eval`: accuracy of every mode (base, each adapter, uniform, prompt-level, token-level
// every token and every 2 tokens, reuse and recompute KV) on a suite — the tiny-tle fixture's four
// test splits (default) or real JSONL (--data) — printed as a task × mode table (or --markdown,
// --json) with an optional SVG chart; per-item results go to --out as they finish, and --resume
// continues an interrupted run. `--routing-only` measures routing accuracy instead, and `--switch`
// how routing follows a change of task within one context (no generation; only the hidden embedder
// runs the model). `--window` shows the router only the last W tokens, in all three.
// Also exports the pieces `bench` shares: opening a pack with its tokenizer, embedder by name.
// Not the evaluation logic (@lora-tle/eval).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { readPack } from '@lora-tle/backend-node';
import { contextRouterFrom, createEngine, engineTokenizerFrom, needsRouter, parseRoutingMode, type KvPolicy } from '@lora-tle/engine';
import {
  answerTokenBudget, buildSuiteProfiles, defaultModes, limitSuite, loadSuiteFromDir, loadTinyTleSuite, measureRoutingAccuracy,
  measureRoutingSwitch, openResultsLog, planRuns, plannedItems, renderJson, renderMarkdown, renderRoutingTable, renderSvgChart, renderSwitchTable, renderTable, resultKey,
  runEvaluation, summarize, type EvalSuite, type RoutingTokenizer,
} from '@lora-tle/eval';
import { createHashingEmbedder, createRouter, createTransformersEmbedder, type Router } from '@lora-tle/router';
import { LoraTleError, type BackendSession, type Embedder } from '@lora-tle/spec';
import { loadTokenizerFromDir, type TextTokenizer } from '@lora-tle/tokenizer';
import { embeddedFixtureDir, ensureEmbeddedDefault } from '../embedded-default.js';
import { createEmbedderByName, openPackSession, parseBackend, type CliBackend } from '../generation-runtime.js';
import { parsePositiveInteger } from '../options.js';
import type { Terminal } from '../terminal.js';
import type { CliCommand } from './command.js';

// ---- shared with bench ----

export const EMBEDDER_FLAG_HELP =
  "hashing (fitted over the adapters' train splits), hashing:unfitted, hidden (the pack's base model: its pooled hidden state), or transformers:<local model dir>";

/**
 * The embedder an --embedder name stands for: `hashing` (buildSuiteProfiles fits it over all
 * adapters' train splits), `hashing:unfitted` (the same features without the fit's weights),
 * `transformers:<local model dir>` (e.g. all-MiniLM-L6-v2 in transformers.js layout) or `hidden`,
 * which runs the opened pack's base model, so it needs the pack.
 */
export async function embedderFromFlag(name: string, opened?: OpenedPack): Promise<Embedder | 'hashing'> {
  if (name.startsWith('transformers:')) return createTransformersEmbedder({ modelDir: name.slice('transformers:'.length) });
  if (name === 'hashing') return 'hashing';
  if (name === 'hashing:unfitted') return createHashingEmbedder();
  return createEmbedderByName(name, opened);
}

export interface OpenedPack {
  packDir: string;
  fixtureDir: string | null; // the embedded tiny-tle fixture when no --pack was given
  session: BackendSession;
  tokenizer: TextTokenizer;
}

/** Opens a pack on `backend` (default node; `threads`: onnxruntime's intra-op threads, default its own choice). */
export async function openPack(packFlag: string | undefined, terminal: Terminal, threads?: number, backend?: CliBackend): Promise<OpenedPack> {
  let packDir = packFlag;
  let fixtureDir: string | null = null;
  if (packDir === undefined) {
    const embedded = await ensureEmbeddedDefault(terminal);
    packDir = embedded.packDir;
    fixtureDir = embedded.fixtureDir;
  }
  const session = await openPackSession(packDir, backend, threads);
  try {
    return { packDir, fixtureDir, session, tokenizer: await packTokenizer(packDir, session.pack.files.tokenizer) };
  } catch (error) {
    await session.dispose();
    throw error;
  }
}

/** The tokenizer a pack names (files.tokenizer, relative to the pack). */
async function packTokenizer(packDir: string, tokenizerFile: string | null): Promise<TextTokenizer> {
  if (tokenizerFile === null) throw new LoraTleError('E_PACK_INVALID', `the model pack ${packDir} has no tokenizer; rebuild it with the checkpoint's tokenizer.json (lora-tle build)`);
  return loadTokenizerFromDir(join(packDir, tokenizerFile, '..'));
}

/**
 * The tokenizer routing windows and task switches count tokens with: the opened pack's, else --pack's
 * (without loading its model), else the embedded tiny-tle fixture's (the embedded pack's own).
 */
async function routingTokenizer(pack: string | undefined, opened: OpenedPack | undefined): Promise<RoutingTokenizer> {
  const tokenizer = opened?.tokenizer ?? (pack === undefined ? await loadTokenizerFromDir(embeddedFixtureDir()) : await packTokenizer(pack, readPack(pack).manifest.files.tokenizer));
  return {
    encode: (text) => tokenizer.encode(text, { addSpecialTokens: false }),
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
  };
}

/** Runs `use` with the pack the `hidden` embedder needs (opened only when `embedder` is hidden), then closes it. */
export async function withEmbedderPack<Result>(embedder: string, pack: string | undefined, terminal: Terminal, use: (opened: OpenedPack | undefined) => Promise<Result>, threads?: number): Promise<Result> {
  const opened = embedder === 'hidden' ? await openPack(pack, terminal, threads) : undefined;
  try {
    return await use(opened);
  } finally {
    await opened?.session.dispose();
  }
}

export function parseList(optionName: string, value: string): string[] {
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) throw new LoraTleError('E_USAGE', `${optionName} needs a comma-separated list, got "${value}"`);
  return items;
}

/** Text progress with an ETA, for logs (the bar of a TTY has its own). */
export function etaText(done: number, total: number, startedAt: number): string {
  if (done === 0) return 'ETA —';
  const seconds = ((Date.now() - startedAt) / 1000 / done) * (total - done);
  const minutes = Math.floor(seconds / 60);
  return `ETA ${minutes >= 60 ? `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m` : `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`}`;
}

// ---- eval ----

interface EvalFlags {
  suite: string;
  data?: string;
  pack?: string;
  modes?: string[];
  kv: KvPolicy[];
  tasks?: string[];
  strategy: string;
  embedder: string;
  limit?: number;
  batch: number;
  maxNewTokens?: number;
  out?: string;
  resume?: boolean;
  json?: boolean;
  markdown?: boolean;
  svg?: string;
  routingOnly?: boolean;
  switch?: boolean;
  window?: number;
  threads?: number;
  backend?: CliBackend;
  truncate: 'left' | 'none';
}

/** The suite (`all`: every task, whose train splits make the profiles) and the tasks to evaluate. */
async function loadSuite(flags: EvalFlags): Promise<{ all: EvalSuite; selected: EvalSuite }> {
  let suite: EvalSuite;
  if (flags.data !== undefined) suite = await loadSuiteFromDir(flags.data);
  else if (flags.suite === 'tiny-tle') suite = await loadTinyTleSuite(embeddedFixtureDir());
  else throw new LoraTleError('E_SUITE', `unknown suite "${flags.suite}"; use --suite tiny-tle or --data <dir> with gsm8k/, arc-challenge/, codealpaca/, squad/`);
  if (flags.tasks) {
    const unknown = flags.tasks.filter((name) => !suite.tasks.some((task) => task.name === name));
    if (unknown.length > 0) throw new LoraTleError('E_USAGE', `--tasks: ${unknown.join(', ')} not in the suite (${suite.tasks.map((t) => t.name).join(', ')})`);
    return { all: suite, selected: { ...suite, tasks: suite.tasks.filter((task) => flags.tasks!.includes(task.name)) } };
  }
  return { all: suite, selected: suite };
}

async function runRoutingOnly(flags: EvalFlags, all: EvalSuite, selected: EvalSuite, terminal: Terminal): Promise<void> {
  const adapters = all.tasks.map((task) => task.name);
  await withEmbedderPack(flags.embedder, flags.pack, terminal, async (opened) => {
    const { embedder, profiles } = await buildSuiteProfiles({ suite: all, adapters, embedder: await embedderFromFlag(flags.embedder, opened) });
    if (flags.switch) {
      let progress: ReturnType<Terminal['progress']> | null = null;
      const result = await measureRoutingSwitch({
        suite: selected, profiles, embedder, strategy: flags.strategy, tokenizer: await routingTokenizer(flags.pack, opened), window: flags.window, limit: flags.limit,
        onProgress: (done, total) => (progress ??= terminal.progress('switch', total)).update(done),
      }).finally(() => progress?.stop());
      terminal.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderSwitchTable(result));
      return;
    }
    const limited = limitSuite(selected, flags.limit);
    const window = flags.window === undefined ? undefined : { tokens: flags.window, tokenizer: await routingTokenizer(flags.pack, opened) };
    const result = await measureRoutingAccuracy({ suite: limited, profiles, embedder, strategy: flags.strategy, window });
    terminal.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderRoutingTable(result));
  }, flags.threads);
}

export async function runEval(flags: EvalFlags, terminal: Terminal): Promise<void> {
  const { all, selected: fullSuite } = await loadSuite(flags);
  if (flags.routingOnly || flags.switch) return runRoutingOnly(flags, all, fullSuite, terminal);
  const opened = await openPack(flags.pack, terminal, flags.threads, flags.backend);
  let routerToDispose: Router | null = null; // with the hidden embedder it holds a KV cache
  try {
    const adapters = opened.session.pack.adapters.map((adapter) => adapter.name);
    const runs = planRuns(flags.modes ?? defaultModes(adapters), flags.kv);
    const countTokens = (text: string) => opened.tokenizer.encode(text, { addSpecialTokens: false }).length;
    const budgets = new Map(fullSuite.tasks.map((task) => [task.name, answerTokenBudget(task, countTokens, flags.maxNewTokens)]));
    const suite = limitSuite(fullSuite, flags.limit);
    const routed = runs.some((run) => needsRouter(parseRoutingMode(run.mode)));
    const routing = routed ? await buildSuiteProfiles({ suite: all, adapters, embedder: await embedderFromFlag(flags.embedder, opened) }) : null;
    routerToDispose = routing ? createRouter({ ...routing, adapters, strategy: flags.strategy, schedule: 'token' }) : null;
    const router = routerToDispose ? contextRouterFrom(routerToDispose) : null;
    const engine = createEngine({ session: opened.session, tokenizer: engineTokenizerFrom(opened.tokenizer), router });

    const identity = {
      suite: flags.data ?? flags.suite, pack: opened.packDir, embedder: flags.embedder, strategy: flags.strategy, maxNewTokensCap: flags.maxNewTokens ?? null,
      ...(flags.window === undefined ? {} : { window: flags.window }), // absent, not null, so logs from before --window still resume
    };
    const log = flags.out ? await openResultsLog(flags.out, identity, flags.resume === true) : null;
    const results = [...(log?.previous ?? [])];
    const done = new Set(results.map(resultKey));
    const total = plannedItems(suite, runs);
    terminal.stderr(`eval: ${suite.name}, ${suite.tasks.length} tasks × ${runs.length} runs = ${total} generations (${done.size} already done), ${opened.session.device}\n`);
    const progress = terminal.progress('eval', total);
    const startedAt = Date.now();
    let firstFinished = -1;
    const controller = new AbortController();
    const onInterrupt = () => controller.abort();
    process.once('SIGINT', onInterrupt);
    try {
      await runEvaluation({
        engine, suite, runs, done, batchSize: flags.batch, signal: controller.signal, truncate: flags.truncate, routingWindow: flags.window,
        maxNewTokens: (task) => budgets.get(task.name)!,
        onResult: (result) => {
          results.push(result);
          log?.append(result);
        },
        onProgress: (finished) => {
          if (firstFinished < 0) firstFinished = finished; // resumed items do not count toward the ETA
          progress.update(finished);
        },
        onCell: (cell) => {
          const finished = results.length - done.size;
          terminal.stderr(
            `\n${cell.task} ${cell.mode} (${cell.kv}): ${(100 * cell.accuracy).toFixed(1)}% of ${cell.n}; ${etaText(finished, total - done.size, startedAt)}\n`,
          );
        },
      });
    } finally {
      progress.stop();
      process.removeListener('SIGINT', onInterrupt);
    }
    // a resumed log may hold items beyond this run's --limit or --tasks: report only this run's
    const inRun = new Set(suite.tasks.flatMap((task) => task.items.map((item) => `${task.name}\u0000${item.id}`)));
    const report = summarize(suite.name, suite.tasks.map((task) => task.name), runs, results.filter((r) => inRun.has(`${r.task}\u0000${r.id}`)));
    if (flags.svg) writeFileSync(flags.svg, renderSvgChart(report));
    if (flags.out) {
      writeFileSync(join(flags.out, 'report.json'), renderJson(report));
      writeFileSync(join(flags.out, 'report.md'), renderMarkdown(report));
    }
    terminal.stdout(flags.json ? renderJson(report) : flags.markdown ? renderMarkdown(report) : renderTable(report));
  } finally {
    await routerToDispose?.dispose();
    await opened.session.dispose();
  }
}

export const evalCommand: CliCommand = {
  name: 'eval',
  create: ({ terminal }) =>
    new Command('eval')
      .description('accuracy of base, each adapter, uniform, prompt- and token-level routing on a task suite')
      .option('--suite <name>', 'built-in suite', 'tiny-tle')
      .option('--data <dir>', 'real JSONL: gsm8k/, arc-challenge/, codealpaca/, squad/ sub-folders (test.jsonl, train.jsonl) or <task>.jsonl files')
      .option('--pack <dir>', 'model pack (default: the embedded tiny-tle pack)')
      .option('--modes <list>', 'comma-separated modes (default: base,adapter:<each>,uniform,prompt,token,every:2)', (value) => parseList('--modes', value))
      .option('--kv <list>', 'KV policies for token/every:k modes: reuse,recompute', (value) => parseList('--kv', value) as KvPolicy[], ['reuse', 'recompute'] as KvPolicy[])
      .option('--tasks <list>', 'only these tasks of the suite', (value) => parseList('--tasks', value))
      .option('--strategy <spec>', 'routing strategy: paper, softmax[:T], top-k:<k>, knn, …', 'paper')
      .option('--embedder <name>', EMBEDDER_FLAG_HELP, 'hashing')
      .option('--limit <n>', 'first n items of each task (quick runs)', (value) => parsePositiveInteger('--limit', value))
      .option('--threads <n>', 'onnxruntime intra-op threads (default: its choice)', (value) => parsePositiveInteger('--threads', value))
      .option('--backend <name>', 'backend: node (onnxruntime-node) or simd (WebAssembly SIMD kernels, one thread; faster decoding for small models)', parseBackend, 'node')
      .option('--batch <n>', 'prompts per engine batch', (value) => parsePositiveInteger('--batch', value), 8)
      .option('--max-new-tokens <n>', 'cap on the per-task budget (longest gold answer + 8)', (value) => parsePositiveInteger('--max-new-tokens', value))
      .addOption(new Option('--truncate <side>', 'a prompt longer than the model context: left keeps its end, none refuses').choices(['left', 'none']).default('left'))
      .option('--out <dir>', 'write results.jsonl (per item, as they finish), report.json, report.md here')
      .option('--resume', 'continue the run in --out, skipping finished items')
      .option('--svg <file>', 'write a grouped bar chart (SVG)')
      .addOption(new Option('--json', 'print JSON: { suite, results: [{ task, mode, kv, n, accuracy }] }').conflicts('markdown'))
      .option('--markdown', 'print a markdown table')
      .option('--window <tokens>', 'routed modes see only the last W tokens of the context, as generate --window (default: all of it)', (value) => parsePositiveInteger('--window', value))
      .option('--routing-only', 'routing accuracy and confusion matrix (profiles from train splits, test prompts); no generation (--embedder hidden still runs the pack)')
      .option('--switch', "routing-only: an answered item of one task, then another task's prompt routed token by token; how often and how soon routing follows, per pair of tasks")
      .action(async (flags: EvalFlags) => {
        if (flags.resume && !flags.out) throw new LoraTleError('E_USAGE', '--resume needs --out <dir> (the run to continue)');
        await runEval(flags, terminal);
      }),
};
