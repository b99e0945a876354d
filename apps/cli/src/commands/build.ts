// `lora-tle build`: a Hugging Face Llama checkpoint directory plus PEFT adapter directories → a
// model pack (@lora-tle/graph buildModelPack), with a progress bar and a one-paragraph summary.
// The command checks what it can before any work (adapter names, --out, paths that overlap) and
// leaves nothing half-written: the pack appears only when complete, and an interrupt removes the
// staging directory. Not here: loading and validating the files, or the graph (@lora-tle/graph).

import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Command, Option } from 'commander';
import { isLoraTleError, LoraTleError } from '@lora-tle/spec';
import type { Combination, PackManifest } from '@lora-tle/spec';
import { formatBytes } from '../inspect/render-report.js';
import { collect } from '../options.js';
import type { Progress, Terminal } from '../terminal.js';
import type { CliCommand } from './command.js';

export const BUILD_COMBINATIONS = ['cat', 'linear', 'linear-peft0.4'] as const satisfies readonly Combination[];

interface BuildFlags {
  base: string;
  adapter?: string[];
  out: string;
  combination: Combination;
  hidden: boolean; // false with --no-hidden
  appended: boolean; // false with --no-appended
  naiveGraph?: boolean;
  overwrite?: boolean;
}

export interface AdapterArgument {
  name: string;
  dir: string;
}

// The names pack.json accepts (the graph package refuses others after loading; we refuse first).
const ADAPTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `[name=]<dir>` → name and directory; the name defaults to the directory's basename. */
export function parseAdapterArgument(value: string): AdapterArgument {
  const equals = value.indexOf('=');
  const prefix = equals > 0 ? value.slice(0, equals) : '';
  if (ADAPTER_NAME.test(prefix)) return { name: prefix, dir: value.slice(equals + 1) };
  const dir = value.replace(/[/\\]+$/, '');
  const name = basename(dir);
  if (!ADAPTER_NAME.test(name)) {
    throw new LoraTleError('E_USAGE', `cannot name the adapter at "${value}" after its directory ("${name}"); give a name with --adapter <name>=<dir> (letters, digits, . _ -)`);
  }
  return { name, dir };
}

/** True when `inner` is `outer` or lies inside it. */
function isWithin(inner: string, outer: string): boolean {
  const path = relative(resolve(outer), resolve(inner));
  return path === '' || !(path === '..' || path.startsWith(`..${sep}`) || isAbsolute(path));
}

/** Everything that can be refused before reading a weight. */
function checkRequest(flags: BuildFlags): AdapterArgument[] {
  const adapters = (flags.adapter ?? []).map(parseAdapterArgument);
  const seen = new Map<string, string>();
  for (const { name, dir } of adapters) {
    const first = seen.get(name);
    if (first !== undefined) {
      throw new LoraTleError('E_USAGE', `two adapters are named "${name}" (${first} and ${dir}); name them apart with --adapter <name>=<dir>`);
    }
    seen.set(name, dir);
  }
  // --overwrite replaces the whole --out directory: it must not hold an input.
  for (const source of [flags.base, ...adapters.map((adapter) => adapter.dir)]) {
    if (isWithin(source, flags.out)) {
      throw new LoraTleError('E_USAGE', `--out ${flags.out} is or contains the input directory ${source}; write the pack somewhere else`);
    }
  }
  if (existsSync(flags.out)) {
    if (!flags.overwrite) throw new LoraTleError('E_OUTPUT_EXISTS', `${flags.out} already exists; choose a new --out, remove it, or pass --overwrite to replace a pack`);
    if (!existsSync(join(flags.out, 'pack.json'))) {
      throw new LoraTleError('E_OUTPUT_EXISTS', `${flags.out} exists and is not a model pack (no pack.json); --overwrite replaces only packs, so remove it yourself or choose another --out`);
    }
  }
  return adapters;
}

/** Removes the staging directories writeModelPack makes next to the destination (".<name>.partial-<pid>-…"). */
function removeStaging(out: string): void {
  const parent = dirname(resolve(out));
  const prefix = `.${basename(resolve(out))}.partial-${process.pid}-`;
  if (!existsSync(parent)) return;
  for (const entry of readdirSync(parent)) if (entry.startsWith(prefix)) rmSync(join(parent, entry), { recursive: true, force: true });
}

/** While the build runs, Ctrl-C / SIGTERM remove the partial pack and exit with one line. */
function cleanUpOnInterrupt(out: string, terminal: Terminal): () => void {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals): void => {
    removeStaging(out);
    terminal.stderr(`lora-tle: [E_ABORTED] build interrupted by ${signal}; nothing was written to ${out}\n`);
    process.exit(130);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}

function architectureSentence(manifest: PackManifest): string {
  const arch = manifest.architecture;
  const rope = arch.ropeScaling.type === 'default' ? '' : `, ${arch.ropeScaling.type} RoPE`;
  const tied = arch.tieWordEmbeddings ? ', tied embeddings' : '';
  return (
    `${arch.modelType} with ${arch.numLayers} layers (hidden ${arch.hiddenSize}, ${arch.numHeads} heads / ${arch.numKvHeads} kv heads, ` +
    `head_dim ${arch.headDim}, MLP ${arch.intermediateSize}, vocab ${arch.vocabSize}${tied}${rope})`
  );
}

function summary(out: string, manifest: PackManifest, seconds: number): string {
  const adapters =
    manifest.adapters.length === 0
      ? 'no adapters (base model only)'
      : `${manifest.adapters.length} adapter${manifest.adapters.length === 1 ? '' : 's'} in mixing order: ` +
        manifest.adapters.map((adapter) => `${adapter.name} (r=${adapter.rank}; ${adapter.targetModules.join(', ')})`).join(', ');
  const fileNames = [...Object.values(manifest.files).filter((name): name is string => name !== null), ...(manifest.naive ? [manifest.naive.model] : []), 'pack.json'];
  const sizes = fileNames.map((name) => ({ name, bytes: statSync(join(out, name)).size }));
  const total = sizes.reduce((sum, file) => sum + file.bytes, 0);
  const files = sizes.map((file) => `${file.name} ${formatBytes(file.bytes)}`).join(', ');
  const hidden =
    (manifest.io.hidden === null ? 'without the hidden output' : `with the hidden output (${manifest.io.hidden})`) +
    (manifest.io.appended ? '' : ', without the appended_key_values output') +
    (manifest.naive ? `, with the naive graph (${manifest.naive.model})` : '');
  return wrap(
    `Built ${out} in ${seconds.toFixed(1)} s: ${architectureSentence(manifest)}, ${adapters}; combination ${manifest.combination}, ${hidden}. ` +
      `Files: ${files} (${formatBytes(total)} in all).`,
    100,
  );
}

/** Word-wraps one paragraph at `width` columns. */
function wrap(paragraph: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return `${[...lines, line].join('\n')}\n`;
}

async function runBuild(flags: BuildFlags, terminal: Terminal): Promise<void> {
  const adapters = checkRequest(flags);
  const { buildModelPack } = await import('@lora-tle/graph'); // only when building: keeps --help fast
  const started = performance.now();
  let bar: Progress | null = null; // created when a graph reports its step count
  let barPhase = '';
  const stopWatching = cleanUpOnInterrupt(flags.out, terminal);
  let manifest: PackManifest;
  try {
    manifest = await buildModelPack({
      checkpointDir: flags.base,
      adapters,
      destination: flags.out,
      combination: flags.combination,
      overwrite: flags.overwrite === true,
      withHidden: flags.hidden,
      withAppended: flags.appended,
      withNaive: flags.naiveGraph === true,
      onProgress: ({ phase, done, total }) => {
        if (phase !== barPhase) {
          bar?.stop(); // the naive graph (--naive-graph) follows the pack's graph
          bar = terminal.progress(phase === 'graph' ? 'building pack' : `building pack: ${phase}`, total);
          barPhase = phase;
        }
        bar!.update(done);
      },
    });
  } catch (error) {
    removeStaging(flags.out); // writeModelPack cleans up after itself; this covers a failure it did not see
    if (isLoraTleError(error)) throw error;
    const errno = (error as NodeJS.ErrnoException).code;
    if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
      throw new LoraTleError('E_IO', `cannot write the pack to ${flags.out}: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  } finally {
    (bar as Progress | null)?.stop();
    stopWatching();
  }
  terminal.stdout(summary(flags.out, manifest, (performance.now() - started) / 1000));
}

export const buildCommand: CliCommand = {
  name: 'build',
  create: ({ terminal }) =>
    new Command('build')
      .description('build a model pack (ONNX decoder with run-time adapter mixing) from a Llama checkpoint and PEFT adapters')
      .requiredOption('--base <dir>', 'Hugging Face Llama checkpoint directory (config.json + safetensors)')
      .option('--adapter <[name=]dir>', 'a PEFT adapter directory, optionally named (default name: the directory name); repeat, in mixing order', collect)
      .requiredOption('--out <pack>', 'output pack directory (must not exist unless --overwrite)')
      .addOption(new Option('--combination <type>', 'how adapters are mixed at run time').choices([...BUILD_COMBINATIONS]).default('cat'))
      .option('--no-hidden', 'leave out the last_hidden_state output (the `hidden` embedder needs it)')
      .option('--no-appended', 'leave out the appended_key_values output: CPU and wasm then copy the whole KV cache out every step; for packs run only on WebGPU')
      .option('--naive-graph', "also write naive.onnx: the decoder with one adapter whose factors are inputs, so that `bench`'s naive mode runs the paper's forward (its merged adapter); needs equal ranks per module")
      .option('--overwrite', 'replace an existing model pack at --out (only a directory with pack.json)')
      .addHelpText(
        'after',
        `
The pack is written next to --out and renamed into place when complete; on any error nothing is
left behind. Adapters must fit the base (every module present, shapes equal); linear and
linear-peft0.4 need equal ranks per module.

Example:
  lora-tle build --base fixtures/tiny-tle --adapter fixtures/tiny-tle/adapters/math \\
                 --adapter sci=fixtures/tiny-tle/adapters/science --out tiny.pack`,
      )
      .action(async (flags: BuildFlags) => runBuild(flags, terminal)),
};
