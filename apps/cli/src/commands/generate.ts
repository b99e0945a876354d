// `lora-tle generate`: one prompt through the engine, streamed to stdout (or one JSON object with
// --json: text, token ids, per-step weights, timing). Without --pack/--store it runs the embedded
// tiny-tle default; with --pack alone the modes that need no router work (base, uniform,
// adapter:<name>). Ctrl-C stops generation cleanly. Not the engine (packages/engine).

import { Command, Option } from 'commander';
import { needsRouter, parseRoutingMode, type DoneEvent, type GenerateRequest, type KvPolicy, type TokenEvent } from '@lora-tle/engine';
import { LoraTleError } from '@lora-tle/spec';
import { ensureEmbeddedDefault } from '../embedded-default.js';
import { openGenerationRuntime, parseBackend, type CliBackend } from '../generation-runtime.js';
import { collect, parseFiniteNumber, parsePositiveInteger, promptFromFlags } from '../options.js';
import type { Terminal } from '../terminal.js';
import type { CliCommand } from './command.js';
import { dominantAdapter, paletteFor } from './demo.js';

interface GenerateFlags {
  pack?: string;
  store?: string;
  prompt?: string;
  promptFile?: string;
  mode?: string;
  strategy: string;
  embedder: string;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  kv: KvPolicy;
  stop?: string[];
  truncate?: 'left';
  window?: number;
  json?: boolean;
  naive?: boolean;
  backend?: CliBackend;
}

/** Weights as {adapter: w}, rounded to 4 decimals for printing. */
export function weightRecord(adapters: readonly string[], weights: Float32Array): Record<string, number> {
  return Object.fromEntries(adapters.map((name, i) => [name, Math.round(weights[i]! * 1e4) / 1e4]));
}

export async function runGenerate(flags: GenerateFlags, terminal: Terminal): Promise<void> {
  const prompt = promptFromFlags(flags);
  let packDir = flags.pack;
  let storeDir = flags.store ?? null;
  if (packDir === undefined) {
    if (storeDir !== null) throw new LoraTleError('E_USAGE', '--store needs --pack (the model pack whose adapters the store profiles); omit both for the embedded default');
    const embedded = await ensureEmbeddedDefault(terminal);
    packDir = embedded.packDir;
    storeDir = embedded.storeDir;
  }
  const mode = parseRoutingMode(flags.mode ?? (storeDir ? 'token' : 'base'));
  if (needsRouter(mode) && !storeDir) {
    throw new LoraTleError('E_USAGE', `--mode ${flags.mode} routes between adapters and needs --store <dir> with their profiles; with --pack alone use base, uniform or adapter:<name>`);
  }
  if (flags.naive && !storeDir) throw new LoraTleError('E_USAGE', '--naive merges the adapter weights every token and reads them from --store <dir>');
  const runtime = await openGenerationRuntime({ packDir, storeDir: needsRouter(mode) || flags.naive ? storeDir : null, embedder: flags.embedder, strategy: flags.strategy, naive: flags.naive === true, backend: flags.backend });
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const request: GenerateRequest = {
      prompt,
      mode,
      maxNewTokens: flags.maxNewTokens,
      sampling: { temperature: flags.temperature, topP: flags.topP, topK: flags.topK, seed: flags.seed },
      kv: flags.kv,
      stop: flags.stop ?? [],
      truncate: flags.truncate ?? 'none',
      routingWindow: flags.window,
      naive: flags.naive === true,
    };
    const steps: TokenEvent[] = [];
    let done: DoneEvent | null = null;
    // on a colour terminal, routed tokens are coloured by their dominant adapter (legend on stderr)
    const colour = !flags.json && needsRouter(mode) && terminal.outputColors.isColorSupported;
    const palette = paletteFor(terminal.outputColors);
    const paint = (step: TokenEvent) => (colour ? palette[dominantAdapter(step) % palette.length]!(step.text) : step.text);
    if (colour) terminal.stderr(`${runtime.engine.adapters.map((name, i) => palette[i % palette.length]!(`■ ${name}`)).join('  ')}\n`);
    for await (const event of runtime.engine.generate(request, { signal: controller.signal })) {
      if (event.type === 'token') {
        steps.push(event);
        if (!flags.json) terminal.stdout(paint(event));
      } else {
        done = event;
      }
    }
    if (!done) throw new LoraTleError('E_ABORTED', 'generation ended without a result');
    const adapters = runtime.engine.adapters;
    if (flags.json) {
      terminal.stdout(
        `${JSON.stringify({
          text: done.text,
          tokenIds: done.tokenIds,
          finishReason: done.finishReason,
          steps: steps.map((step) => ({ tokenId: step.tokenId, text: step.text, weights: weightRecord(adapters, step.mix.weights) })),
          timing: done.timing,
        })}\n`,
      );
    } else {
      terminal.stdout(`${done.tail}\n`);
      const { timing } = done;
      terminal.stderr(
        terminal.errorColors.dim(
          `${done.tokenIds.length} tokens, ${done.finishReason}, ${timing.tokensPerSecond.toFixed(1)} tok/s, first token ${timing.ttftMs.toFixed(0)} ms ` +
            `(model ${timing.modelMs.toFixed(0)} ms, routing ${timing.routingMs.toFixed(0)} ms, sampling ${timing.samplingMs.toFixed(0)} ms; ${runtime.session.device})\n`,
        ),
      );
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    await runtime.close();
  }
}

export const generateCommand: CliCommand = {
  name: 'generate',
  create: ({ terminal }) =>
    new Command('generate')
      .description('generate text with token-level routing of LoRA adapters (the embedded tiny-tle default without --pack)')
      .option('--pack <dir>', 'model pack directory (lora-tle build); default: the embedded tiny-tle pack')
      .option('--store <dir>', 'adapter store with routing profiles (needed by token, prompt and every:k modes)')
      .option('--prompt <text>', 'the text to continue')
      .option('--prompt-file <path>', 'read the prompt from a file')
      .option('--mode <mode>', 'token | prompt | every:<k> | base | uniform | adapter:<name> (default: token with a store, else base)')
      .option('--strategy <spec>', 'routing strategy: paper, softmax[:T], top-k:<k>, knn, uniform, base, fixed:<adapter>', 'paper')
      .option('--embedder <name>', 'context embedder: hashing, or hidden (this pack\'s base model; the store needs hidden profiles made with it)', 'hashing')
      .option('--max-new-tokens <n>', 'tokens to generate at most', (value) => parsePositiveInteger('--max-new-tokens', value), 64)
      .option('--temperature <t>', '0 = greedy', (value) => parseFiniteNumber('--temperature', value), 0)
      .option('--top-p <p>', 'nucleus sampling mass in (0, 1]', (value) => parseFiniteNumber('--top-p', value), 1)
      .option('--top-k <k>', 'sample among the k likeliest tokens (0 = all)', (value) => parseFiniteNumber('--top-k', value), 0)
      .option('--seed <n>', 'sampling seed', (value) => parseFiniteNumber('--seed', value), 0)
      .addOption(new Option('--kv <policy>', 'reuse: each token K/V kept; recompute: rerun the sequence every token (paper)').choices(['reuse', 'recompute']).default('reuse'))
      .option('--stop <text>', 'stop before this text (repeatable)', collect)
      .addOption(new Option('--truncate <side>', 'keep the end of a prompt longer than the context').choices(['left']))
      .option('--window <tokens>', 'the router sees only the last W tokens', (value) => parsePositiveInteger('--window', value))
      .option('--naive', "the paper's loop for speed comparison: per token merge the adapter weights (PEFT 0.4 linear), recompute without KV cache, re-embed the whole text; on a pack built with --naive-graph the forward runs the merged adapter, as the paper's did, otherwise the pack's run-time mixture")
      .option('--backend <name>', 'backend: node (onnxruntime-node) or simd (WebAssembly SIMD kernels, one thread; faster decoding for small models); --naive runs on node)', parseBackend, 'node')
      .option('--json', 'print one JSON object: text, tokenIds, steps with weights, timing')
      .action((flags: GenerateFlags) => runGenerate(flags, terminal)),
};
