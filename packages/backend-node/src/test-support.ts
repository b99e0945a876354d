// Test support (not exported): builds packs from random tiny models into a temp directory and
// runs the same steps through the reference forward, so tests compare logits row by row; and the
// random configurations and per-step mixtures that the CPU and WebGPU reference tests share, and the
// tiny-tle fixture's reference index (tools/fixtures/stage_reference.py) that both parity tests read.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModelPack, createRandomAdapter, createRandomLlama, type AdapterSource, type RandomLlama, writeModelPack } from '@lora-tle/graph';
import { createReferenceCache, mixCoefficients, referenceForward, type ReferenceKvCache } from '@lora-tle/mixing';
import type { Backend, Combination, LlamaArchitecture, MixCoefficients } from '@lora-tle/spec';

export interface TempDirs {
  make(name: string): string;
  cleanup(): void;
}

export function tempDirs(prefix: string): TempDirs {
  const root = mkdtempSync(join(tmpdir(), `lora-tle-${prefix}-`));
  return { make: (name) => join(root, name), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export async function buildPack(dirs: TempDirs, name: string, model: RandomLlama, adapters: readonly AdapterSource[], combination: Combination = 'cat', fusedBMaxZeros?: number): Promise<string> {
  const destination = dirs.make(name);
  await writeModelPack({ source: model, adapters, destination, combination, ...(fusedBMaxZeros === undefined ? {} : { fusedBMaxZeros }) });
  return destination;
}

export function mix(weights: readonly number[], combination: Combination): MixCoefficients {
  return mixCoefficients(weights, combination);
}

/** The conformance suite's two packs over one random base: `mixed` (adapters qv and mlp) and `firstAdapterOnly` (qv). */
export async function buildConformancePacks(dirs: TempDirs): Promise<{ mixed: string; firstAdapterOnly: string }> {
  const model = createRandomLlama({}, 21);
  const qv = createRandomAdapter(model.architecture, { name: 'qv', rank: 4, targets: ['q_proj', 'v_proj', 'o_proj'] }, 22);
  const mlp = createRandomAdapter(model.architecture, { name: 'mlp', rank: 2, targets: ['gate_proj', 'down_proj'] }, 23);
  return { mixed: await buildPack(dirs, 'mixed', model, [qv, mlp]), firstAdapterOnly: await buildPack(dirs, 'first', model, [qv]) };
}

/** A reference-forward runner for one sequence. */
export function referenceSequence(model: RandomLlama, adapters: readonly AdapterSource[], combination: Combination) {
  const reference = { architecture: model.architecture, weights: model.weights, adapters, combination };
  const cache: ReferenceKvCache = createReferenceCache(model.architecture);
  return {
    step(tokens: readonly number[], coefficients: MixCoefficients) {
      return referenceForward(reference, tokens, coefficients, cache);
    },
  };
}

/**
 * Runs `prompt` (logits 'all', pooled hidden state) and then `steps` decode steps with KV reuse on a
 * pack of `model` built into `dirs`, a new mixture every step (REFERENCE_STEP_WEIGHTS, cycled), and
 * the same through the reference forward. Returns max |Δ| of the prefill's logits, of its hidden
 * state, then of every decode step's logits; checks the cache length as it goes.
 */
export async function compareWithReference(
  backend: Backend,
  dirs: TempDirs,
  run: { model: RandomLlama; adapters: AdapterSource[]; combination: Combination; packName: string; prompt?: readonly number[]; steps?: number; fusedBMaxZeros?: number },
): Promise<number[]> {
  const { model, adapters, combination, prompt = REFERENCE_PROMPT, steps = REFERENCE_STEP_WEIGHTS.length - 1 } = run;
  const session = await backend.doLoad(await buildPack(dirs, run.packName, model, adapters, combination, run.fusedBMaxZeros));
  const reference = referenceSequence(model, adapters, combination);
  const weightsAt = (step: number): number[] => (REFERENCE_STEP_WEIGHTS[step % REFERENCE_STEP_WEIGHTS.length] as number[]).slice(0, adapters.length);
  let coefficients = mix(weightsAt(0), combination);
  let output = await session.doStep({ inputIds: Int32Array.from(prompt), batchSize: 1, sequenceLength: prompt.length, mix: [coefficients], cache: null, logits: 'all', hidden: true });
  let expected = reference.step(prompt, coefficients);
  const H = model.architecture.hiddenSize;
  const meanHidden = new Float32Array(H).map((_, j) => prompt.reduce((sum, _token, t) => sum + (expected.hidden[t * H + j] as number), 0) / prompt.length);
  const differences = [maxAbsDifference(output.logits, expected.logits), maxAbsDifference(output.hidden!, meanHidden)];
  let cache = output.cache;
  for (let step = 1; step <= steps; step++) {
    const token = (step * 7) % model.architecture.vocabSize;
    coefficients = mix(weightsAt(step), combination);
    output = await session.doStep({ inputIds: Int32Array.of(token), batchSize: 1, sequenceLength: 1, mix: [coefficients], cache });
    expected = reference.step([token], coefficients);
    differences.push(maxAbsDifference(output.logits, expected.logits));
    if (output.cache.length !== prompt.length + step) throw new Error(`cache length ${output.cache.length} after step ${step}, expected ${prompt.length + step}`);
    cache = output.cache;
  }
  cache.dispose();
  await session.dispose();
  return differences;
}

export function maxAbsDifference(left: ArrayLike<number>, right: ArrayLike<number>): number {
  if (left.length !== right.length) throw new Error(`length ${left.length} ≠ ${right.length}`);
  let max = 0;
  for (let i = 0; i < left.length; i++) max = Math.max(max, Math.abs((left[i] as number) - (right[i] as number)));
  return max;
}

/** A random tiny Llama configuration with its adapters and the combinations to build it with. */
export interface RandomReferenceCase {
  name: string;
  architecture: Partial<LlamaArchitecture>;
  adapters: (architecture: LlamaArchitecture) => AdapterSource[];
  combinations: Combination[];
}

export const RANDOM_REFERENCE_CASES: readonly RandomReferenceCase[] = [
  {
    name: 'MQA (n_kv = 1), tied embeddings, llama3 RoPE, attention bias, V = 37, mixed ranks and targets',
    architecture: {
      numKvHeads: 1,
      tieWordEmbeddings: true,
      attentionBias: true,
      ropeTheta: 500000,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 },
    },
    adapters: (architecture) => [
      createRandomAdapter(architecture, { name: 'qv', rank: 4, targets: ['q_proj', 'v_proj'] }, 11),
      createRandomAdapter(architecture, { name: 'all', rank: 2, alpha: 3, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, 12),
      createRandomAdapter(architecture, { name: 'mlp1', rank: 3, targets: ['gate_proj', 'down_proj'], layers: [1], rankByKind: { down_proj: 5 } }, 13),
    ],
    combinations: ['cat'],
  },
  {
    name: 'MHA (n_kv = n_heads), explicit head_dim 16, linear RoPE, MLP bias, untied, V = 41, equal ranks',
    architecture: { hiddenSize: 24, numHeads: 2, numKvHeads: 2, headDim: 16, mlpBias: true, vocabSize: 41, ropeScaling: { type: 'linear', factor: 2 } },
    adapters: (architecture) => [
      createRandomAdapter(architecture, { name: 'a', rank: 4, targets: ['q_proj', 'v_proj', 'down_proj'] }, 21),
      createRandomAdapter(architecture, { name: 'b', rank: 4, alpha: 16, targets: ['q_proj', 'k_proj', 'up_proj', 'down_proj'] }, 22),
    ],
    combinations: ['cat', 'linear', 'linear-peft0.4'],
  },
];

export const REFERENCE_PROMPT = [3, 14, 15, 9, 2, 6];

/** The mixture of each step (prefill, then decode), cut to the case's adapter count; includes negative and > 1 weights. */
export const REFERENCE_STEP_WEIGHTS = [
  [0.7, 0.2, 0.1],
  [0.1, -0.5, 0.9],
  [0, 1, 0],
  [0.3, 0.3, 0.4],
  [1.2, 0, -0.2],
];

// ---- the tiny-tle fixture's references (fixtures/tiny-tle/reference/index.json) ----

// LORA_TLE_FIXTURE_DIR points at another copy of the fixture (e.g. a committed one while it is regenerated)
export const TINY_TLE_FIXTURE = process.env['LORA_TLE_FIXTURE_DIR'] ?? fileURLToPath(new URL('../../../fixtures/tiny-tle/', import.meta.url));
export const TINY_TLE_REFERENCE_INDEX = join(TINY_TLE_FIXTURE, 'reference', 'index.json');

export interface ReferenceRun {
  name: string;
  file: string;
  mode: 'base' | 'adapter' | 'mixture' | 'token';
  combination: Combination | null;
  weights: number[] | string;
  weights_per_step: number[][] | null;
  generated_ids: number[][];
}

export interface ReferenceIndex {
  adapter_order: string[];
  steps: number;
  vocab_size: number;
  prompts: { task: string; prompt_ids: number[] }[];
  runs: ReferenceRun[];
}

/** Packs of the tiny-tle fixture with its adapters in reference order, one per combination, built into `dirs` (named by combination). */
export async function buildTinyTlePacks<C extends Combination>(dirs: TempDirs, index: ReferenceIndex, combinations: readonly C[]): Promise<Record<C, string>> {
  const packs = {} as Record<C, string>;
  for (const combination of combinations) {
    const destination = dirs.make(combination);
    await buildModelPack({
      checkpointDir: TINY_TLE_FIXTURE,
      adapters: index.adapter_order.map((name) => ({ name, dir: join(TINY_TLE_FIXTURE, 'adapters', name) })),
      destination,
      combination,
    });
    packs[combination] = destination;
  }
  return packs;
}

/** The fixture's reference index, or null when the fixture (model or references) is not there. */
export function readTinyTleReferenceIndex(): ReferenceIndex | null {
  if (!existsSync(TINY_TLE_REFERENCE_INDEX) || !existsSync(join(TINY_TLE_FIXTURE, 'config.json'))) return null;
  return JSON.parse(readFileSync(TINY_TLE_REFERENCE_INDEX, 'utf8')) as ReferenceIndex;
}
