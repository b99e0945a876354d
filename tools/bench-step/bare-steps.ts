// Per-step cost of model packs in bare onnxruntime-node: the same decode loop (a prefill, then one
// token per step with the cache fed back) run through InferenceSession.run with the feeds of
// bare-feeds.ts, no lora-tle backend or engine. Variants run in alternating order round after round
// in one process, so their ratio holds on a noisy machine. With --io-only, a variant whose graph has
// the first pack's inputs and outputs and no model in between (each present = past plus one
// position; logits a constant): what one run costs the onnxruntime-node binding alone. With
// --recompute, every step instead runs the whole sequence so far with no cache (the forward of the
// naive paper loop). With --kv-arrays, packs that have the appended rows' output keep the cache as the node
// backend does on CPU (backend-core KvBuffers: fed with spare positions, filled from the appended
// rows) instead of fetching present.* every step. With --backend, a variant per pack runs the same
// steps through lora-tle's node backend (doStep: validation, feeds, KV bookkeeping, logits) instead
// of bare session.run: what the backend adds over onnxruntime. The numbers in docs/results.md ("Where a
// token-level token goes now") come from this script.
//
//   npx tsx tools/bench-step/bare-steps.ts <pack dir> [<pack dir> ...] [--io-only] [--recompute] [--kv-arrays]
//       [--backend] [--rounds 30] [--steps 100] [--prompt-tokens 40] [--threads 1]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { appendedOutputName, KvBuffers, kvBufferFeeds, pastInputNames, presentOutputNames, stepOutputNames, writeAppended } from '@lora-tle/backend-core';
import { createNodeBackend } from '@lora-tle/backend-node';
import type { BackendSession, PackManifest, StepOutput } from '@lora-tle/spec';
import { ElementType, GraphBuilder, int } from '../../packages/graph/src/onnx-builder.js';
import { bareStepFeeds } from './bare-feeds.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'io-only': { type: 'boolean', default: false },
    recompute: { type: 'boolean', default: false },
    'kv-arrays': { type: 'boolean', default: false },
    backend: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '30' },
    steps: { type: 'string', default: '100' },
    'prompt-tokens': { type: 'string', default: '40' },
    threads: { type: 'string', default: '1' },
  },
});
if (positionals.length === 0) {
  console.error('usage: bare-steps.ts <pack dir> [<pack dir> ...] [--io-only] [--recompute] [--kv-arrays] [--backend] [--rounds n] [--steps n] [--prompt-tokens n] [--threads n]');
  process.exit(2);
}
const rounds = Number(values.rounds);
const steps = Number(values.steps);
const promptTokens = Number(values['prompt-tokens']);
const threads = Number(values.threads);
const recompute = values.recompute === true;

interface Variant {
  label: string;
  pack: PackManifest;
  session: InferenceSession;
  /** --backend: run through lora-tle's node backend instead of `session`. */
  backend?: BackendSession;
}

/** A graph with the pack's inputs and outputs and nothing in between: the binding's cost per run. */
function ioOnlyModel(pack: PackManifest, inputNames: readonly string[]): Uint8Array {
  const { numKvHeads, headDim: d, vocabSize: V } = pack.architecture;
  const builder = new GraphBuilder();
  const pastDims = ['batch_size', numKvHeads, 'past_sequence_length', d];
  const pastNames = new Set(pastInputNames(pack).flatMap((names) => [names.key, names.value]));
  for (const name of inputNames) {
    if (pastNames.has(name)) builder.input(name, ElementType.float32, pastDims);
    else if (name === pack.io.mixA || name === pack.io.mixB) builder.input(name, ElementType.float32, ['batch_size', pack.adapters.length]);
    else if (name === pack.io.logitsToKeep) builder.input(name, ElementType.int64, [1]);
    else builder.input(name, ElementType.int64, ['batch_size', name === pack.io.attentionMask ? 'total_sequence_length' : 'sequence_length']);
  }
  const zeros = (name: string, dims: number[]): string =>
    builder.initializer({ name, dataType: ElementType.float32, dims, rawData: new Uint8Array(4 * dims.reduce((a, b) => a * b, 1)) });
  const onePosition = zeros('one_position', [1, numKvHeads, 1, d]);
  builder.op('Identity', [zeros('logits_constant', [1, 1, V])], { output: pack.io.logits });
  builder.output(pack.io.logits, ElementType.float32, [1, 1, V]);
  const presents = presentOutputNames(pack);
  pastInputNames(pack).forEach((past, layer) => {
    for (const [input, output] of [
      [past.key, presents[layer]!.key],
      [past.value, presents[layer]!.value],
    ] as const) {
      builder.op('Concat', [input, onePosition], { output, attributes: { axis: int(2) } });
      builder.output(output, ElementType.float32, ['batch_size', numKvHeads, 'total_sequence_length', d]);
    }
  });
  return builder.toModelBytes({ irVersion: 8, opsets: { '': 17 }, producer: 'tools/bench-step', graphName: 'io-only' });
}

const sessionOptions: InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
const variants: Variant[] = [];
for (const dir of positionals) {
  const pack = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8')) as PackManifest;
  variants.push({ label: dir, pack, session: await InferenceSession.create(join(dir, pack.files.model), sessionOptions) });
}
if (values.backend) {
  for (const dir of positionals) {
    const first = variants.find((variant) => variant.label === dir)!;
    variants.push({ ...first, label: `backend (${dir})`, backend: await createNodeBackend({ device: 'cpu', threads }).doLoad(dir) });
  }
}
const scratch = mkdtempSync(join(tmpdir(), 'lora-tle-bare-steps-'));
if (values['io-only']) {
  const first = variants[0]!;
  const path = join(scratch, 'io-only.onnx');
  writeFileSync(path, ioOnlyModel(first.pack, first.session.inputNames));
  variants.push({ label: `io-only (${first.label})`, pack: first.pack, session: await InferenceSession.create(path, sessionOptions) });
}

/** One run on the cache in `buffers` (length `past`): feeds its arrays, writes the appended rows. */
async function arraysStep(variant: Variant, buffers: KvBuffers, tokens: number, past: number): Promise<void> {
  buffers.reserve(past + tokens, past);
  const feeds = { ...bareStepFeeds(variant.pack, tokens, past, null), ...kvBufferFeeds(variant.pack, buffers, (data, dims) => new Tensor('float32', data, dims)) };
  writeAppended(variant.pack, buffers, await variant.session.run(feeds, stepOutputNames(variant.pack, false, 'appended')), past, tokens);
}

/** The same loop through the node backend: bare-feeds.ts' tokens and mixture, recompute = keepCache false. */
async function backendLoop(variant: Variant, backend: BackendSession): Promise<[number, number]> {
  const N = variant.pack.adapters.length;
  const mix = [{ a: new Float32Array(N).fill(1 / N), b: new Float32Array(N).fill(1) }];
  const ids = (tokens: number) => Int32Array.from({ length: tokens }, (_, t) => 5 + (t % (variant.pack.architecture.vocabSize - 5)));
  let output: StepOutput = await backend.doStep({ inputIds: ids(promptTokens), batchSize: 1, sequenceLength: promptTokens, mix, cache: null, keepCache: !recompute });
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  for (let step = 0; step < steps; step++) {
    output = recompute
      ? await backend.doStep({ inputIds: ids(promptTokens + step + 1), batchSize: 1, sequenceLength: promptTokens + step + 1, mix, cache: null, keepCache: false })
      : await backend.doStep({ inputIds: ids(1), batchSize: 1, sequenceLength: 1, mix, cache: output.cache });
  }
  const cpu = process.cpuUsage(cpuAtStart);
  output.cache.dispose();
  return [(performance.now() - startedAt) / steps, (cpu.user + cpu.system) / 1000 / steps];
}

/** Prefill, then `steps` one-token steps; returns [wall, CPU] ms per decode step. */
async function decodeLoop(variant: Variant): Promise<[number, number]> {
  if (variant.backend) return backendLoop(variant, variant.backend);
  if (values['kv-arrays'] && !recompute && appendedOutputName(variant.pack) !== null && !variant.label.startsWith('io-only')) {
    const buffers = KvBuffers.create(variant.pack, 1, promptTokens);
    await arraysStep(variant, buffers, promptTokens, 0);
    const cpuAtStart = process.cpuUsage();
    const startedAt = performance.now();
    for (let step = 0; step < steps; step++) await arraysStep(variant, buffers, 1, promptTokens + step);
    const cpu = process.cpuUsage(cpuAtStart);
    return [(performance.now() - startedAt) / steps, (cpu.user + cpu.system) / 1000 / steps];
  }
  const fetches = stepOutputNames(variant.pack, false);
  let cache = await variant.session.run(bareStepFeeds(variant.pack, promptTokens, 0, null), fetches);
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  for (let step = 0; step < steps; step++) {
    cache = recompute
      ? await variant.session.run(bareStepFeeds(variant.pack, promptTokens + step + 1, 0, null), fetches) // whole sequence, no cache
      : await variant.session.run(bareStepFeeds(variant.pack, 1, promptTokens + step, cache), fetches);
  }
  const cpu = process.cpuUsage(cpuAtStart);
  return [(performance.now() - startedAt) / steps, (cpu.user + cpu.system) / 1000 / steps];
}

const wall = variants.map((): number[] => []);
const cpu = variants.map((): number[] => []);
for (let round = 0; round < rounds; round++) {
  const order = variants.map((_, index) => index);
  if (round % 2 === 1) order.reverse();
  for (const index of order) {
    const [stepWall, stepCpu] = await decodeLoop(variants[index]!);
    wall[index]!.push(stepWall);
    cpu[index]!.push(stepCpu);
  }
}
rmSync(scratch, { recursive: true, force: true });
for (const variant of variants) await variant.backend?.dispose();

const median = (numbers: readonly number[]): number => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const kind = recompute ? 'recompute steps (the whole sequence, no cache)' : values['kv-arrays'] ? 'decode steps (KV arrays where the pack has the appended rows)' : 'decode steps';
console.log(`bare onnxruntime-node ${kind}: ${promptTokens}-token prefill, then ${steps} steps; median of ${rounds} alternating rounds; ${threads} thread(s)`);
console.log('variant'.padEnd(48), 'wall ms/step', ' CPU ms/step', '  × first (wall, CPU)');
variants.forEach((variant, index) => {
  const w = median(wall[index]!);
  const c = median(cpu[index]!);
  const ratio = `${(w / median(wall[0]!)).toFixed(3)}, ${(c / median(cpu[0]!)).toFixed(3)}`;
  console.log(variant.label.slice(-48).padEnd(48), w.toFixed(3).padStart(12), c.toFixed(3).padStart(12), ratio.padStart(22));
});
