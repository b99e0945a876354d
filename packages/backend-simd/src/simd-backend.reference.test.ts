// The simd backend against the plain-loop reference forward (@lora-tle/mixing) on the random tiny
// Llama configurations the node backend is checked on (backend-node's test-support): prefill and
// decode with KV reuse and a new mixture every step, every combination, MQA/MHA, RoPE scalings,
// biases, tied and untied heads, adapters of different ranks and layers (pack.json moduleRanks),
// B factors fused or per module, no adapters; and a decode that outgrows the first cache block.

import { afterAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama, type AdapterSource, type RandomLlama } from '@lora-tle/graph';
import type { Combination } from '@lora-tle/spec';
import {
  buildPack,
  maxAbsDifference,
  mix,
  RANDOM_REFERENCE_CASES,
  REFERENCE_PROMPT,
  REFERENCE_STEP_WEIGHTS,
  referenceSequence,
  tempDirs,
} from '../../backend-node/src/test-support.js';
import { createSimdBackend } from './index.js';

const dirs = tempDirs('simd-reference');
afterAll(() => dirs.cleanup());
const backend = createSimdBackend();
const TOLERANCE = 1e-4;

/** |Δ| of the prefill's logits ('all') and pooled hidden state, then of every decode step's logits. */
async function compareWithReference(model: RandomLlama, adapters: AdapterSource[], combination: Combination, packName: string, prompt: readonly number[], steps: number, fusedBMaxZeros?: number): Promise<number[]> {
  const session = await backend.doLoad(await buildPack(dirs, packName, model, adapters, combination, fusedBMaxZeros));
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
    expect(output.cache.length).toBe(prompt.length + step);
    cache = output.cache;
  }
  cache.dispose();
  await session.dispose();
  return differences;
}

describe('simd backend vs the reference forward', () => {
  RANDOM_REFERENCE_CASES.forEach((testCase, caseIndex) => {
    for (const combination of testCase.combinations) {
      it(`${testCase.name} — ${combination}`, async () => {
        const model = createRandomLlama(testCase.architecture, 100 + caseIndex);
        const differences = await compareWithReference(model, testCase.adapters(model.architecture), combination, `case${caseIndex}-${combination}`, REFERENCE_PROMPT, REFERENCE_STEP_WEIGHTS.length - 1);
        expect(differences).toHaveLength(REFERENCE_STEP_WEIGHTS.length + 1);
        for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
      });
    }
  });

  it('reads B factors stored per module as well as fused block-diagonal ones', async () => {
    const testCase = RANDOM_REFERENCE_CASES[0]!;
    const model = createRandomLlama(testCase.architecture, 100);
    const differences = await compareWithReference(model, testCase.adapters(model.architecture), 'cat', 'case0-per-module-b', REFERENCE_PROMPT, 4, 0);
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it('runs a base model without adapters', async () => {
    const model = createRandomLlama({ numLayers: 1, vocabSize: 19 }, 7);
    const differences = await compareWithReference(model, [], 'cat', 'base-only', REFERENCE_PROMPT, 4);
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it('keeps decoding when the cache outgrows its first block of 64 positions', async () => {
    const model = createRandomLlama({ maxPositionEmbeddings: 128 }, 31);
    const adapters = [
      createRandomAdapter(model.architecture, { name: 'x', rank: 4, targets: ['q_proj', 'v_proj', 'down_proj'] }, 32),
      createRandomAdapter(model.architecture, { name: 'y', rank: 2, targets: ['k_proj', 'o_proj', 'up_proj'] }, 33),
    ];
    const prompt = Array.from({ length: 60 }, (_, i) => (i * 5 + 1) % model.architecture.vocabSize);
    const differences = await compareWithReference(model, adapters, 'cat', 'growth', prompt, 12);
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });
});
