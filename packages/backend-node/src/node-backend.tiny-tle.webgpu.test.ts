// The tiny-tle parity runs (node-backend.tiny-tle.test.ts) on the `webgpu` device — Mesa lavapipe
// on a machine without a GPU — next to the CPU: base, each adapter, and the cat and linear
// mixtures; prefill + the 32 greedy steps with KV reuse (KV cache kept in GPU buffers): every
// step's logits within 1e-3 of the CPU's and of transformers + PEFT, and the same greedy ids.
// Cost on lavapipe (a CPU rasterizer) grows with rows × runs, and the full set (all 12 prompts)
// took ~40 s on a loaded 2-core machine, so by default a representative subset runs: the shortest
// prompt of each task (4 prompts × 9 runs × 33 steps, ~15 s). LORA_TLE_WEBGPU_ALL_PROMPTS=1 runs
// all 12. Every (run, prompt) pair of one pack is a row of one left-padded batch with its own
// mixture (positions count real tokens only), so a pack costs one prefill + 32 steps, not one per
// sequence. The CPU runs the same batches and must still match the reference to 1e-4, as the
// unpadded CPU test does. Not covered here: the token-level recompute run (the CPU test has it).
// Skipped, with the reason, when the WebGPU preflight fails (no Vulkan driver:
// tools/ci/install-system-deps.sh installs lavapipe) or the fixture has no reference. The first
// run on a fresh machine also compiles shaders (~30 s, then cached by Mesa).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryByteSource, openSafetensors } from '@lora-tle/lora-store';
import type { BackendSession, Combination, KvCache, StepOutput } from '@lora-tle/spec';
import { preflightDevice } from './execution-providers.js';
import { createNodeBackend } from './index.js';
import { NodeKvCache } from './node-kv-cache.js';
import { buildTinyTlePacks, maxAbsDifference, mix, readTinyTleReferenceIndex, tempDirs, TINY_TLE_FIXTURE, TINY_TLE_REFERENCE_INDEX, type ReferenceRun } from './test-support.js';

const FIXTURE = TINY_TLE_FIXTURE;
const INDEX = TINY_TLE_REFERENCE_INDEX;
const index = readTinyTleReferenceIndex();
const fixturePresent = index !== null;
const webgpuProblem = await preflightDevice('webgpu');
if (webgpuProblem) console.warn(`[tiny-tle webgpu] skipped: ${webgpuProblem.message}`);
else if (!fixturePresent) console.warn(`[tiny-tle webgpu] skipped: ${INDEX} not found (run tools/fixtures/make_tiny_tle.py)`);

const GPU_TOLERANCE = 1e-3; // issue 4: CPU vs WebGPU logits within 1e-3
// The CPU test's 1e-4 against transformers + PEFT holds for one prompt per run. Here the prompts run
// as one left-padded batch, and the graph rotates a padded row at its cache positions (its position
// ids shifted by its padding; docs/model-pack.md): the same attention up to float rounding, measured
// at most 1.3e-4 (adapter-math), against 7.9e-5 when RoPE ran at position_ids.
const CPU_TOLERANCE = 2e-4;
const dirs = tempDirs('tiny-tle-webgpu');
const sessions: Record<'cpu' | 'webgpu', Partial<Record<Combination, BackendSession>>> = { cpu: {}, webgpu: {} };
const measured: string[] = [];

/** Indices of the prompts to run: all with LORA_TLE_WEBGPU_ALL_PROMPTS=1, else the shortest of each task. */
function chosenPrompts(): number[] {
  const prompts = index?.prompts ?? [];
  if (process.env['LORA_TLE_WEBGPU_ALL_PROMPTS'] === '1') return prompts.map((_, p) => p);
  const shortest = new Map<string, number>();
  prompts.forEach((prompt, p) => {
    const best = shortest.get(prompt.task);
    if (best === undefined || prompt.prompt_ids.length < (prompts[best] as { prompt_ids: number[] }).prompt_ids.length) shortest.set(prompt.task, p);
  });
  return [...shortest.values()].sort((left, right) => left - right);
}
const PROMPTS = chosenPrompts();

/** One sequence of a batched run: a prompt, its mixture weights, and the reference ids fed after it. */
interface Row {
  promptIds: number[];
  weights: number[];
  fedIds: number[];
}

/**
 * All rows in one left-padded batch (positions count real tokens only): prefill, then one decode
 * step per fed id. Returns the last-position logits of every step, (B, V) each.
 */
async function runBatched(session: BackendSession, rows: readonly Row[], onCache?: (cache: KvCache) => void): Promise<Float32Array[]> {
  const B = rows.length;
  const T = Math.max(...rows.map((row) => row.promptIds.length));
  const steps = Math.max(...rows.map((row) => row.fedIds.length));
  const inputIds = new Int32Array(B * T); // (B, T), pads are id 0, masked
  let mask = new Uint8Array(B * T);
  const positionIds = new Int32Array(B * T);
  rows.forEach((row, r) => {
    const pad = T - row.promptIds.length;
    inputIds.set(row.promptIds, r * T + pad);
    mask.fill(1, r * T + pad, (r + 1) * T);
    for (let t = 0; t < row.promptIds.length; t++) positionIds[r * T + pad + t] = t;
  });
  const coefficients = rows.map((row) => mix(row.weights, session.pack.combination));
  let output: StepOutput = await session.doStep({ inputIds, batchSize: B, sequenceLength: T, attentionMask: mask, positionIds, mix: coefficients, cache: null });
  const logits = [output.logits];
  for (let k = 1; k <= steps; k++) {
    onCache?.(output.cache);
    const grown = new Uint8Array(B * (T + k)); // (B, past + 1): the pads stay masked
    for (let r = 0; r < B; r++) {
      grown.set(mask.subarray(r * (T + k - 1), (r + 1) * (T + k - 1)), r * (T + k));
      grown[r * (T + k) + T + k - 1] = 1;
    }
    mask = grown;
    const tokens = Int32Array.from(rows, (row) => row.fedIds[k - 1] ?? 0);
    const positions = Int32Array.from(rows, (row) => row.promptIds.length + k - 1);
    output = await session.doStep({ inputIds: tokens, batchSize: B, sequenceLength: 1, attentionMask: mask, positionIds: positions, mix: coefficients, cache: output.cache });
    logits.push(output.logits);
  }
  output.cache.dispose();
  return logits;
}

/** Every run of one combination × every prompt, as rows of one batch: (run, prompt) → row index. */
function rowsFor(runs: readonly ReferenceRun[]): Row[] {
  return runs.flatMap((run) => PROMPTS.map((p) => ({ promptIds: index!.prompts[p]!.prompt_ids, weights: run.weights as number[], fedIds: run.generated_ids[p] as number[] })));
}

// One batch per pack and device, computed on first use: the cat pack carries base, the adapters
// and the cat mixtures (one-hot and zero weights are cat mixtures too), the linear pack its two.
const runsOf = (combination: Combination): ReferenceRun[] =>
  (index?.runs ?? []).filter((run) => run.mode !== 'token' && (run.combination ?? 'cat') === combination);
const batched = new Map<string, Promise<Float32Array[]>>();
function batchedLogits(device: 'cpu' | 'webgpu', combination: Combination): Promise<Float32Array[]> {
  const key = `${device}/${combination}`;
  let pending = batched.get(key);
  if (!pending) {
    pending = runBatched(sessions[device][combination] as BackendSession, rowsFor(runsOf(combination)));
    batched.set(key, pending);
  }
  return pending;
}

const argmax = (values: Float32Array): number => values.indexOf(Math.max(...values));

describe.skipIf(webgpuProblem !== null || !fixturePresent)('node backend on webgpu vs cpu and transformers + PEFT on fixtures/tiny-tle', () => {
  beforeAll(async () => {
    const packs = await buildTinyTlePacks(dirs, index!, ['cat', 'linear'] as const);
    for (const [combination, destination] of Object.entries(packs) as ['cat' | 'linear', string][]) {
      sessions.cpu[combination] = await createNodeBackend({ device: 'cpu', threads: 1 }).doLoad(destination);
      sessions.webgpu[combination] = await createNodeBackend({ device: 'webgpu', threads: 1 }).doLoad(destination);
    }
  }, 120_000);
  afterAll(async () => {
    for (const byCombination of Object.values(sessions)) for (const session of Object.values(byCombination)) await session.dispose();
    dirs.cleanup();
    if (measured.length > 0) console.info(`[tiny-tle webgpu] max |Δlogit| per run (prompts ${PROMPTS.join(', ')} × prefill + 32 steps):\n${measured.join('\n')}`);
  });

  it('runs on WebGPU and keeps the KV cache in GPU buffers between steps', async () => {
    const session = sessions.webgpu.cat as BackendSession;
    expect(session.device).toMatch(/^webgpu/);
    const locations = new Set<string>();
    const row = { promptIds: index!.prompts[0]!.prompt_ids, weights: [0, 0, 0, 0], fedIds: [5, 6] };
    await runBatched(session, [row], (cache) => {
      const { keys, values } = (cache as NodeKvCache).tensors();
      for (const tensor of [...keys, ...values]) locations.add(tensor.location);
    });
    expect([...locations]).toEqual(['gpu-buffer']);
  }, 120_000);

  for (const run of (index?.runs ?? []).filter((candidate) => candidate.mode !== 'token')) {
    it(`${run.name}: ${PROMPTS.length} prompts, prefill + ${index!.steps} greedy steps, same ids, logits within ${GPU_TOLERANCE} of cpu and reference`, async () => {
      const combination = run.combination ?? 'cat';
      const V = index!.vocab_size;
      const stepsPlusOne = index!.steps + 1;
      const reader = await openSafetensors(memoryByteSource(readFileSync(join(FIXTURE, 'reference', run.file))), run.file);
      const reference = await reader.readTensor('logits'); // (P, steps+1, V)
      await reader.close();
      const gpu = await batchedLogits('webgpu', combination);
      const cpu = await batchedLogits('cpu', combination);
      const firstRow = runsOf(combination).indexOf(run) * PROMPTS.length; // this run's rows in the batch
      let gpuVsCpu = 0;
      let gpuVsReference = 0;
      let cpuVsReference = 0;
      for (const [position, p] of PROMPTS.entries()) {
        const prompt = index!.prompts[p]!;
        const gpuIds: number[] = [];
        for (let k = 0; k <= index!.steps; k++) {
          const row = (logits: Float32Array[]) => (logits[k] as Float32Array).subarray((firstRow + position) * V, (firstRow + position + 1) * V);
          const expected = reference.subarray((p * stepsPlusOne + k) * V, (p * stepsPlusOne + k + 1) * V);
          gpuVsCpu = Math.max(gpuVsCpu, maxAbsDifference(row(gpu), row(cpu)));
          gpuVsReference = Math.max(gpuVsReference, maxAbsDifference(row(gpu), expected));
          cpuVsReference = Math.max(cpuVsReference, maxAbsDifference(row(cpu), expected));
          if (k < index!.steps) gpuIds.push(argmax(row(gpu)));
        }
        expect(gpuIds, `webgpu greedy ids of prompt ${p} (${prompt.task})`).toEqual(run.generated_ids[p]);
      }
      measured.push(`  ${run.name.padEnd(16)} webgpu−cpu ${gpuVsCpu.toExponential(2)}  webgpu−HF ${gpuVsReference.toExponential(2)}  cpu−HF ${cpuVsReference.toExponential(2)}`);
      expect(gpuVsCpu).toBeLessThanOrEqual(GPU_TOLERANCE);
      expect(gpuVsReference).toBeLessThanOrEqual(GPU_TOLERANCE);
      expect(cpuVsReference).toBeLessThanOrEqual(CPU_TOLERANCE);
    }, 120_000);
  }
});
