// Parity with transformers + PEFT: a tiny random Llama (GQA, tied embeddings, attention bias,
// llama3 RoPE) and two PEFT adapters (one with rslora and an alpha_pattern), made and evaluated in
// Python by packages/graph/test-fixtures/make_hf_parity.py. The pack is built from the directories
// with buildModelPack (lora-store loading), then prefill and greedy decode with KV reuse must give
// the same logits (max |Δ| ≤ 1e-4) and the same greedy ids as PyTorch for base, each adapter alone,
// and the cat and linear add_weighted_adapter mixtures.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModelPack } from '@lora-tle/graph';
import { memoryByteSource, openSafetensors, type SafetensorsReader } from '@lora-tle/lora-store';
import type { BackendSession, Combination } from '@lora-tle/spec';
import { createNodeBackend } from './index.js';
import { maxAbsDifference, mix, tempDirs } from './test-support.js';

const FIXTURE = fileURLToPath(new URL('../../graph/test-fixtures/hf-parity/', import.meta.url));
const reference = JSON.parse(readFileSync(join(FIXTURE, 'reference.json'), 'utf8')) as {
  prompt: number[];
  steps: number;
  adapters: string[];
  mix_weights: number[];
  greedy_ids: Record<string, number[]>;
};
const TOLERANCE = 1e-4;
const dirs = tempDirs('hf-parity');
const backend = createNodeBackend({ threads: 1 });
const sessions: Partial<Record<Combination, BackendSession>> = {};
let logits: SafetensorsReader;

beforeAll(async () => {
  logits = await openSafetensors(memoryByteSource(readFileSync(join(FIXTURE, 'reference.safetensors'))), 'reference.safetensors');
  for (const combination of ['cat', 'linear'] as const) {
    const destination = dirs.make(combination);
    await buildModelPack({
      checkpointDir: join(FIXTURE, 'base'),
      adapters: reference.adapters.map((name) => ({ name, dir: join(FIXTURE, name) })),
      destination,
      combination,
    });
    sessions[combination] = await backend.doLoad(destination);
  }
});
afterAll(async () => {
  for (const session of Object.values(sessions)) await session.dispose();
  dirs.cleanup();
});

/** Weights per case, in pack order, and the pack whose combination PEFT used. */
const CASES: { name: string; weights: number[]; combination: Combination }[] = [
  { name: 'base', weights: [0, 0], combination: 'cat' },
  { name: 'alpha', weights: [1, 0], combination: 'cat' },
  { name: 'beta', weights: [0, 1], combination: 'cat' },
  { name: 'mix_cat', weights: reference.mix_weights, combination: 'cat' },
  { name: 'mix_linear', weights: reference.mix_weights, combination: 'linear' },
];

describe('node backend vs transformers + PEFT', () => {
  for (const testCase of CASES) {
    it(`${testCase.name}: prefill and ${reference.steps} greedy steps with KV reuse`, async () => {
      const session = sessions[testCase.combination] as BackendSession;
      const coefficients = mix(testCase.weights, testCase.combination);
      const V = session.pack.architecture.vocabSize;
      const expectedPrefill = await logits.readTensor(`${testCase.name}.prefill_logits`); // (T, V)
      const expectedSteps = await logits.readTensor(`${testCase.name}.step_logits`); // (steps, V)
      const greedy = reference.greedy_ids[testCase.name] as number[];
      const prompt = reference.prompt;

      let output = await session.doStep({ inputIds: Int32Array.from(prompt), batchSize: 1, sequenceLength: prompt.length, mix: [coefficients], cache: null, logits: 'all' });
      expect(maxAbsDifference(output.logits, expectedPrefill)).toBeLessThanOrEqual(TOLERANCE);
      const ours: number[] = [];
      let worst = 0;
      let last = output.logits.subarray((prompt.length - 1) * V);
      for (let step = 0; step < reference.steps; step++) {
        if (step > 0) {
          output = await session.doStep({ inputIds: Int32Array.of(greedy[step - 1] as number), batchSize: 1, sequenceLength: 1, mix: [coefficients], cache: output.cache });
          last = output.logits;
        }
        worst = Math.max(worst, maxAbsDifference(last, expectedSteps.subarray(step * V, (step + 1) * V)));
        ours.push(last.indexOf(Math.max(...last)));
      }
      output.cache.dispose();
      expect(worst).toBeLessThanOrEqual(TOLERANCE);
      expect(ours).toEqual(greedy);
    });
  }

  it('the adapters change the logits (the fixture is not trivially the base)', async () => {
    const base = await logits.readTensor('base.step_logits');
    for (const name of ['alpha', 'beta', 'mix_cat', 'mix_linear']) expect(maxAbsDifference(await logits.readTensor(`${name}.step_logits`), base)).toBeGreaterThan(0.05);
  });
});
