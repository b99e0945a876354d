// The ONNX pack on onnxruntime-node against the plain-loop reference forward (@lora-tle/mixing) on
// random tiny Llama configurations: prefill and decode with KV reuse, per-step mixtures, every
// combination, GQA shapes, RoPE scalings, biases, tied embeddings, adapters of different ranks.

import { afterAll, describe, expect, it } from 'vitest';
import { createRandomLlama } from '@lora-tle/graph';
import type { Backend } from '@lora-tle/spec';
import { createNodeBackend } from './index.js';
import { compareWithReference, RANDOM_REFERENCE_CASES, REFERENCE_STEP_WEIGHTS, tempDirs } from './test-support.js';

const dirs = tempDirs('reference');
afterAll(() => dirs.cleanup());
const backend: Backend = createNodeBackend({ threads: 1 });
const TOLERANCE = 1e-4;

const CASES = RANDOM_REFERENCE_CASES;
const STEP_WEIGHTS = REFERENCE_STEP_WEIGHTS;

describe('node backend vs the reference forward', () => {
  CASES.forEach((testCase, caseIndex) => {
    for (const combination of testCase.combinations) {
      it(`${testCase.name} — ${combination}`, async () => {
        const model = createRandomLlama(testCase.architecture, 100 + caseIndex);
        const adapters = testCase.adapters(model.architecture);
        const differences = await compareWithReference(backend, dirs, { model, adapters, combination, packName: `case${caseIndex}-${combination}` });
        expect(differences).toHaveLength(STEP_WEIGHTS.length + 1);
        for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
      });
    }
  });

  it('cat with one B factor per module (no block-diagonal B for fused q/k/v and gate/up) matches the reference too', async () => {
    const testCase = CASES[0]!;
    const model = createRandomLlama(testCase.architecture, 100);
    const differences = await compareWithReference(backend, dirs, { model, adapters: testCase.adapters(model.architecture), combination: 'cat', packName: 'case0-cat-per-module-b', fusedBMaxZeros: 0 });
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it('a base model without adapters matches the reference', async () => {
    const model = createRandomLlama({ numLayers: 1, vocabSize: 19 }, 7);
    const differences = await compareWithReference(backend, dirs, { model, adapters: [], combination: 'cat', packName: 'base-only' });
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });
});
