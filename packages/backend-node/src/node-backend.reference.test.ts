// The ONNX pack on onnxruntime-node against the plain-loop reference forward (@lora-tle/mixing) on
// random tiny Llama configurations: prefill and decode with KV reuse, per-step mixtures, every
// combination, GQA shapes, RoPE scalings, biases, tied embeddings, adapters of different ranks.

import { afterAll, describe, expect, it } from 'vitest';
import { createRandomLlama, type AdapterSource, type RandomLlama } from '@lora-tle/graph';
import type { Backend, Combination } from '@lora-tle/spec';
import { createNodeBackend } from './index.js';
import { buildPack, maxAbsDifference, mix, RANDOM_REFERENCE_CASES, REFERENCE_PROMPT, REFERENCE_STEP_WEIGHTS, referenceSequence, tempDirs } from './test-support.js';

const dirs = tempDirs('reference');
afterAll(() => dirs.cleanup());
const backend: Backend = createNodeBackend({ threads: 1 });
const TOLERANCE = 1e-4;

const CASES = RANDOM_REFERENCE_CASES;
const PROMPT = REFERENCE_PROMPT;
const STEP_WEIGHTS = REFERENCE_STEP_WEIGHTS;

async function compareWithReference(model: RandomLlama, adapters: AdapterSource[], combination: Combination, packName: string, fusedBMaxZeros?: number): Promise<number[]> {
  const packDir = await buildPack(dirs, packName, model, adapters, combination, fusedBMaxZeros);
  const session = await backend.doLoad(packDir);
  const reference = referenceSequence(model, adapters, combination);
  const weightsAt = (step: number): number[] => (STEP_WEIGHTS[step] as number[]).slice(0, adapters.length);
  const differences: number[] = [];
  let coefficients = mix(weightsAt(0), combination);
  let output = await session.doStep({ inputIds: Int32Array.from(PROMPT), batchSize: 1, sequenceLength: PROMPT.length, mix: [coefficients], cache: null, logits: 'all', hidden: true });
  let expected = reference.step(PROMPT, coefficients);
  differences.push(maxAbsDifference(output.logits, expected.logits));
  const H = model.architecture.hiddenSize;
  const meanHidden = new Float32Array(H).map((_, j) => PROMPT.reduce((sum, _token, t) => sum + (expected.hidden[t * H + j] as number), 0) / PROMPT.length);
  differences.push(maxAbsDifference(output.hidden!, meanHidden));
  let cache = output.cache;
  for (let step = 1; step < STEP_WEIGHTS.length; step++) {
    const token = (step * 7) % model.architecture.vocabSize;
    coefficients = mix(weightsAt(step), combination);
    output = await session.doStep({ inputIds: Int32Array.of(token), batchSize: 1, sequenceLength: 1, mix: [coefficients], cache });
    expected = reference.step([token], coefficients);
    differences.push(maxAbsDifference(output.logits, expected.logits));
    expect(output.cache.length).toBe(PROMPT.length + step);
    cache = output.cache;
  }
  await session.dispose();
  return differences;
}

describe('node backend vs the reference forward', () => {
  CASES.forEach((testCase, caseIndex) => {
    for (const combination of testCase.combinations) {
      it(`${testCase.name} — ${combination}`, async () => {
        const model = createRandomLlama(testCase.architecture, 100 + caseIndex);
        const adapters = testCase.adapters(model.architecture);
        const differences = await compareWithReference(model, adapters, combination, `case${caseIndex}-${combination}`);
        expect(differences).toHaveLength(STEP_WEIGHTS.length + 1);
        for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
      });
    }
  });

  it('cat with one B factor per module (no block-diagonal B for fused q/k/v and gate/up) matches the reference too', async () => {
    const testCase = CASES[0]!;
    const model = createRandomLlama(testCase.architecture, 100);
    const differences = await compareWithReference(model, testCase.adapters(model.architecture), 'cat', 'case0-cat-per-module-b', 0);
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it('a base model without adapters matches the reference', async () => {
    const model = createRandomLlama({ numLayers: 1, vocabSize: 19 }, 7);
    const differences = await compareWithReference(model, [], 'cat', 'base-only');
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });
});
