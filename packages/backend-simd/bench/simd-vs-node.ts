// Benchmark (not a test): one model pack on the simd backend and on onnxruntime-node (CPU, one
// thread), alternating in one process: the prefill of a prompt and the greedy-free decode steps
// after it (a new mixture of all adapters every step), as ms and as the ratio node ÷ simd, with the
// largest |Δlogit| between the two over every step.
//
//   node --conditions=source --import tsx packages/backend-simd/bench/simd-vs-node.ts <pack dir> [--prompt 56] [--steps 128] [--rounds 30]
//
// The pack defaults to the embedded tiny-tle pack (run `lora-tle demo` once to build it).

import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createNodeBackend } from '@lora-tle/backend-node';
import { mixCoefficients } from '@lora-tle/mixing';
import type { BackendSession, KvCache } from '@lora-tle/spec';
import { createSimdBackend } from '../src/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { prompt: { type: 'string', default: '56' }, steps: { type: 'string', default: '128' }, rounds: { type: 'string', default: '30' } },
});

function embeddedPack(): string {
  const cache = process.env['LORA_TLE_CACHE'] ?? join(homedir(), '.cache', 'lora-tle');
  const dirs = existsSync(cache) ? readdirSync(cache).filter((name) => name.startsWith('tiny-tle-') && existsSync(join(cache, name, 'pack', 'pack.json'))) : [];
  if (dirs.length === 0) throw new Error('no pack given and no embedded tiny-tle pack built; run `npm run demo` once or pass a pack directory');
  return join(cache, dirs.sort().pop() as string, 'pack');
}

const packDir = positionals[0] ?? embeddedPack();
const promptLength = Number(values.prompt);
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const sessions: Record<'simd' | 'node', BackendSession> = {
  simd: await createSimdBackend().doLoad(packDir),
  node: await createNodeBackend({ threads: 1 }).doLoad(packDir),
};
const { vocabSize: V } = sessions.simd.pack.architecture;
const N = sessions.simd.pack.adapters.length;
const prompt = Int32Array.from({ length: promptLength }, (_, i) => (i * 13 + 3) % V);
const mixAt = (step: number) => mixCoefficients(Array.from({ length: N }, (_, i) => 1 + Math.sin(step + i)), sessions.simd.pack.combination);

/** Prefill ms and decode ms per step of one sequence; the logits of every step. */
async function sequence(session: BackendSession): Promise<{ prefillMs: number; decodeMs: number; logits: Float32Array[] }> {
  const logits: Float32Array[] = [];
  const started = performance.now();
  let output = await session.doStep({ inputIds: prompt, batchSize: 1, sequenceLength: promptLength, mix: [mixAt(0)], cache: null });
  const prefilled = performance.now();
  logits.push(output.logits);
  let cache: KvCache = output.cache;
  for (let step = 1; step <= steps; step++) {
    output = await session.doStep({ inputIds: Int32Array.of((step * 37) % V), batchSize: 1, sequenceLength: 1, mix: [mixAt(step)], cache });
    cache = output.cache;
    logits.push(output.logits);
  }
  const done = performance.now();
  cache.dispose();
  return { prefillMs: prefilled - started, decodeMs: (done - prefilled) / steps, logits };
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
const times = { simd: { prefill: [] as number[], decode: [] as number[] }, node: { prefill: [] as number[], decode: [] as number[] } };
let worst = 0;
for (let round = 0; round < rounds + 2; round++) {
  const order = round % 2 === 0 ? (['simd', 'node'] as const) : (['node', 'simd'] as const);
  const results = { simd: null as Awaited<ReturnType<typeof sequence>> | null, node: null as Awaited<ReturnType<typeof sequence>> | null };
  for (const name of order) results[name] = await sequence(sessions[name]);
  if (round < 2) continue; // warm-up
  for (const name of order) {
    times[name].prefill.push(results[name]!.prefillMs);
    times[name].decode.push(results[name]!.decodeMs);
  }
  results.simd!.logits.forEach((logits, step) => {
    const other = results.node!.logits[step] as Float32Array;
    for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs((logits[i] as number) - (other[i] as number)));
  });
}
const row = (name: 'simd' | 'node') => `${name.padEnd(5)} prefill ${median(times[name].prefill).toFixed(2)} ms  decode ${median(times[name].decode).toFixed(4)} ms/step`;
console.log(`${packDir}: ${promptLength}-token prompt, ${steps} decode steps, median of ${rounds} alternating rounds`);
console.log(row('simd'));
console.log(row('node'));
console.log(`node ÷ simd: prefill ${(median(times.node.prefill) / median(times.simd.prefill)).toFixed(2)}×, decode ${(median(times.node.decode) / median(times.simd.decode)).toFixed(2)}×; max |Δlogit| ${worst.toExponential(2)}`);
for (const session of Object.values(sessions)) await session.dispose();
