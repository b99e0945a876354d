// `lora-tle bench`: decoding speed of base-only, token-level (every token / every 2 / every 4),
// prompt-level and the naive paper loop, measured in one process with interleaved rounds (medians),
// as a table or --json; `--python` also runs tools/original-loop/original_loop.py (transformers +
// PEFT, the original algorithm) on the same fixture and reports the speed-up over it.
// Not the measuring (@lora-tle/eval runBench).

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Command } from 'commander';
import { contextRouterFrom, engineTokenizerFrom } from '@lora-tle/engine';
import { benchJson, benchSvg, benchTable, buildSuiteProfiles, checkBenchModes, DEFAULT_BENCH_MODES, DEFAULT_BENCH_PROMPT, loadSuiteFromDir, loadTinyTleSuite, runBench, type BenchReport, type BenchRun } from '@lora-tle/eval';
import { loadPeftAdapter } from '@lora-tle/lora-store/node';
import { createRouter, type Router } from '@lora-tle/router';
import { LoraTleError, type BackendSession, type LoraModuleWeights } from '@lora-tle/spec';
import { embeddedFixtureDir, repositoryPath } from '../embedded-default.js';
import { openNaiveGraph, parseBackend, type CliBackend } from '../generation-runtime.js';
import { parsePositiveInteger, promptFromFlags } from '../options.js';
import type { Terminal } from '../terminal.js';
import type { CliCommand } from './command.js';
import { EMBEDDER_FLAG_HELP, embedderFromFlag, openPack, parseList } from './eval.js';

interface BenchFlags {
  pack?: string;
  adapters?: string;
  data?: string;
  tokens: number;
  rounds: number;
  modes?: string[];
  prompt?: string;
  promptFile?: string;
  strategy: string;
  embedder: string;
  python?: boolean;
  pythonBin: string;
  pythonFixture?: string;
  json?: boolean;
  markdown?: boolean;
  threads?: number;
  backend?: CliBackend;
  svg?: string;
}

const ORIGINAL_LOOP = repositoryPath('tools/original-loop/original_loop.py');

async function loadAdapterWeights(adaptersDir: string, names: readonly string[]): Promise<LoraModuleWeights[][]> {
  const weights: LoraModuleWeights[][] = [];
  for (const name of names) {
    const dir = join(adaptersDir, name);
    if (!existsSync(dir)) throw new LoraTleError('E_NOT_FOUND', `naive mode needs the PEFT adapter "${name}" at ${dir}; pass --adapters <dir holding one folder per adapter>, or drop naive from --modes`);
    const adapter = await loadPeftAdapter(dir);
    try {
      weights.push(await adapter.readModules());
    } finally {
      await adapter.close();
    }
  }
  return weights;
}

/**
 * V8's full collection, for the bench's untimed collection before every run: global.gc when node
 * runs with --expose-gc, otherwise the flag is turned on and a fresh context hands out its gc
 * (undefined if even that fails: the bench then runs without).
 */
function nodeGarbageCollector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as () => void;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

/** Runs the Python original loop on the fixture; returns its run as a bench row. */
function runPythonOriginal(flags: BenchFlags, fixtureDir: string, prompt: string, terminal: Terminal): BenchRun {
  terminal.stderr(`bench: running the Python original loop (${flags.pythonBin} ${ORIGINAL_LOOP})…\n`);
  const result = spawnSync(
    flags.pythonBin,
    [ORIGINAL_LOOP, '--fixture', fixtureDir, '--tokens', String(flags.tokens), '--prompt', prompt, '--json', ...(flags.threads ? ['--threads', String(flags.threads)] : [])],
    { encoding: 'utf8', maxBuffer: 16 * 2 ** 20, env: { ...process.env, TOKENIZERS_PARALLELISM: 'false' } },
  );
  if (result.error || result.status !== 0) {
    throw new LoraTleError('E_IO', `the Python original loop failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}; it needs python3 with torch, transformers and peft`);
  }
  const line = result.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line) as Omit<BenchRun, 'mode'>;
  return {
    mode: 'python-original', tokens: parsed.tokens, tokensPerSecond: parsed.tokensPerSecond, msPerToken: parsed.msPerToken,
    ttftMs: parsed.ttftMs, peakRssMb: parsed.peakRssMb, cpuMsPerToken: parsed.cpuMsPerToken,
  };
}

/** --modes, checked before the pack loads: a misspelt mode fails at once, as a usage error. */
function parseBenchModes(value: string): string[] {
  const modes = parseList('--modes', value);
  try {
    checkBenchModes(modes);
  } catch (error) {
    throw new LoraTleError('E_USAGE', `--modes: ${(error as Error).message}`);
  }
  return modes;
}

export async function runBenchCommand(flags: BenchFlags, terminal: Terminal): Promise<void> {
  const prompt = promptFromFlags(flags, DEFAULT_BENCH_PROMPT); // before the pack loads: a bad flag fails at once
  const opened = await openPack(flags.pack, terminal, flags.threads, flags.backend);
  let routerToDispose: Router | null = null; // with the hidden embedder it holds a KV cache
  let naiveSession: BackendSession | null = null; // the pack's naive graph, for naive mode
  try {
    const adapters = opened.session.pack.adapters.map((adapter) => adapter.name);
    const modes = flags.modes ?? [...DEFAULT_BENCH_MODES];
    const fixtureDir = opened.fixtureDir ?? embeddedFixtureDir();
    const suite = flags.data !== undefined ? await loadSuiteFromDir(flags.data) : await loadTinyTleSuite(fixtureDir);
    const { embedder, profiles } = await buildSuiteProfiles({ suite, adapters, embedder: await embedderFromFlag(flags.embedder, opened) });
    routerToDispose = createRouter({ embedder, profiles, adapters, strategy: flags.strategy, schedule: 'token' });
    const router = contextRouterFrom(routerToDispose);
    const adapterWeights = modes.includes('naive')
      ? await loadAdapterWeights(flags.adapters ?? join(fixtureDir, 'adapters'), adapters)
      : undefined;
    terminal.stderr(`bench: ${modes.join(', ')} × ${flags.rounds} rounds of ${flags.tokens} tokens on ${opened.session.device}\n`);
    if (modes.includes('naive')) {
      naiveSession = await openNaiveGraph(opened.packDir, opened.session.pack, flags.threads);
      if (naiveSession) {
        terminal.stderr("bench: naive runs the paper's forward: the pack's naive graph, fed each token's merged adapter\n");
        if (flags.backend === 'simd') terminal.stderr('bench: naive runs on onnxruntime-node, whose batched recompute is its fastest here (the simd backend runs the mixing graph only)\n');
      } else {
        terminal.stderr("bench: this pack has no naive graph, so naive recomputes on the run-time mixture of all adapters (larger LoRA products than the paper's one merged adapter); `lora-tle build --naive-graph` adds it\n");
      }
    }
    const collectGarbage = nodeGarbageCollector();
    if (!collectGarbage) terminal.stderr('bench: no access to the garbage collector; runs may pay for the garbage of the run before\n');
    const progress = terminal.progress('bench', modes.length * flags.rounds);
    let measured = 0;
    let report: BenchReport;
    try {
      report = await runBench({
        session: opened.session, tokenizer: engineTokenizerFrom(opened.tokenizer), router, adapterWeights, naiveSession,
        prompt, tokens: flags.tokens, rounds: flags.rounds, modes,
        onRun: () => progress.update(++measured),
        ...(collectGarbage ? { collectGarbage } : {}),
      });
    } finally {
      progress.stop();
    }
    if (flags.python) {
      const python = runPythonOriginal(flags, flags.pythonFixture ?? fixtureDir, prompt, terminal);
      report.runs.push(python);
      const routed = report.runs.find((run) => run.mode === 'token')?.tokensPerSecond;
      report.ratios.routedOverPython = routed !== undefined && python.tokensPerSecond > 0 ? routed / python.tokensPerSecond : null;
    }
    if (flags.svg) writeFileSync(flags.svg, benchSvg(report));
    terminal.stdout(flags.json ? benchJson(report) : benchTable(report, flags.markdown === true));
  } finally {
    await routerToDispose?.dispose();
    await naiveSession?.dispose();
    await opened.session.dispose();
  }
}

export const benchCommand: CliCommand = {
  name: 'bench',
  create: ({ terminal }) =>
    new Command('bench')
      .description('decoding speed: base-only, token-level (every 1/2/4), prompt-level and the naive paper loop, interleaved in one run')
      .option('--pack <dir>', 'model pack (default: the embedded tiny-tle pack)')
      .option('--adapters <dir>', 'PEFT adapter folders (one per pack adapter) for the naive mode (default: the fixture adapters)')
      .option('--data <dir>', 'train splits for the routing profiles (default: the tiny-tle fixture data)')
      .option('--tokens <n>', 'tokens generated per run (EOS is masked so every run is this long)', (value) => parsePositiveInteger('--tokens', value), 128)
      .option('--rounds <n>', 'interleaved rounds; each metric is the median over rounds', (value) => parsePositiveInteger('--rounds', value), 5)
      .option('--modes <list>', `comma-separated (default ${DEFAULT_BENCH_MODES.join(',')}; also step: the backend alone)`, (value) => parseBenchModes(value))
      .option('--threads <n>', 'onnxruntime intra-op threads, and torch threads for --python (default: their choice)', (value) => parsePositiveInteger('--threads', value))
      .option('--backend <name>', 'backend: node (onnxruntime-node) or simd (WebAssembly SIMD kernels, one thread; faster decoding for small models); naive always runs on node)', parseBackend, 'node')
      .option('--prompt <text>', 'the prompt (default: a math word problem)')
      .option('--prompt-file <path>', 'read the prompt from a file (long contexts)')
      .option('--strategy <spec>', 'routing strategy', 'paper')
      .option('--embedder <name>', EMBEDDER_FLAG_HELP, 'hashing')
      .option('--python', 'also run tools/original-loop/original_loop.py (transformers + PEFT) on the fixture')
      .option('--python-fixture <dir>', 'checkpoint + adapters/ + data/ for --python (default: the tiny-tle fixture)')
      .option('--python-bin <path>', 'Python interpreter for --python', 'python3')
      .option('--json', 'print JSON: { runs: [...], ratios: { routedOverBase, routedOverNaive } }')
      .option('--markdown', 'print a markdown table')
      .option('--svg <file>', 'write a bar chart of tokens/s per mode (SVG)')
      .action((flags: BenchFlags) => runBenchCommand(flags, terminal)),
};
