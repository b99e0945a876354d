// The simd backend against the plain-loop reference forward (@lora-tle/mixing) on the random tiny
// Llama configurations the node backend is checked on (backend-node's test-support): prefill and
// decode with KV reuse and a new mixture every step, every combination, MQA/MHA, RoPE scalings,
// biases, tied and untied heads, adapters of different ranks and layers (pack.json moduleRanks),
// B factors fused or per module, no adapters; and a decode that outgrows the first cache block.

import { afterAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import { compareWithReference, RANDOM_REFERENCE_CASES, REFERENCE_STEP_WEIGHTS, tempDirs } from '../../backend-node/src/test-support.js';
import { createSimdBackend } from './index.js';

const dirs = tempDirs('simd-reference');
afterAll(() => dirs.cleanup());
const backend = createSimdBackend();
const TOLERANCE = 1e-4;

describe('simd backend vs the reference forward', () => {
  RANDOM_REFERENCE_CASES.forEach((testCase, caseIndex) => {
    for (const combination of testCase.combinations) {
      it(`${testCase.name} — ${combination}`, async () => {
        const model = createRandomLlama(testCase.architecture, 100 + caseIndex);
        const differences = await compareWithReference(backend, dirs, { model, adapters: testCase.adapters(model.architecture), combination, packName: `case${caseIndex}-${combination}` });
        expect(differences).toHaveLength(REFERENCE_STEP_WEIGHTS.length + 1);
        for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
      });
    }
  });

  it('reads B factors stored per module as well as fused block-diagonal ones', async () => {
    const testCase = RANDOM_REFERENCE_CASES[0]!;
    const model = createRandomLlama(testCase.architecture, 100);
    const differences = await compareWithReference(backend, dirs, { model, adapters: testCase.adapters(model.architecture), combination: 'cat', packName: 'case0-per-module-b', fusedBMaxZeros: 0 });
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it('runs a base model without adapters', async () => {
    const model = createRandomLlama({ numLayers: 1, vocabSize: 19 }, 7);
    const differences = await compareWithReference(backend, dirs, { model, adapters: [], combination: 'cat', packName: 'base-only' });
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });

  it('keeps decoding when the cache outgrows its first block of 64 positions', async () => {
    const model = createRandomLlama({ maxPositionEmbeddings: 128 }, 31);
    const adapters = [
      createRandomAdapter(model.architecture, { name: 'x', rank: 4, targets: ['q_proj', 'v_proj', 'down_proj'] }, 32),
      createRandomAdapter(model.architecture, { name: 'y', rank: 2, targets: ['k_proj', 'o_proj', 'up_proj'] }, 33),
    ];
    const prompt = Array.from({ length: 60 }, (_, i) => (i * 5 + 1) % model.architecture.vocabSize);
    const differences = await compareWithReference(backend, dirs, { model, adapters, combination: 'cat', packName: 'growth', prompt, steps: 12 });
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });
});
