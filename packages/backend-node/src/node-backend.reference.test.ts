// The ONNX pack on onnxruntime-node against the plain-loop reference forward (@lora-tle/mixing) on
// random tiny Llama configurations: prefill and decode with KV reuse, per-step mixtures, every
// combination, GQA shapes, RoPE scalings, biases, tied embeddings, adapters of different ranks.

import { afterAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama, type AdapterSource, type RandomLlama } from '@lora-tle/graph';
import type { Backend, Combination, LlamaArchitecture } from '@lora-tle/spec';
import { createNodeBackend } from './index.js';
import { buildPack, maxAbsDifference, mix, referenceSequence, tempDirs } from './test-support.js';

const dirs = tempDirs('reference');
afterAll(() => dirs.cleanup());
const backend: Backend = createNodeBackend({ threads: 1 });
const TOLERANCE = 1e-4;

interface Case {
  name: string;
  architecture: Partial<LlamaArchitecture>;
  adapters: (architecture: LlamaArchitecture) => AdapterSource[];
  combinations: Combination[];
}

const CASES: Case[] = [
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
    name: 'MHA (n_kv = n_heads), explicit head_dim, linear RoPE, MLP bias, untied, equal ranks',
    architecture: { hiddenSize: 24, numHeads: 2, numKvHeads: 2, headDim: 16, mlpBias: true, vocabSize: 41, ropeScaling: { type: 'linear', factor: 2 } },
    adapters: (architecture) => [
      createRandomAdapter(architecture, { name: 'a', rank: 4, targets: ['q_proj', 'v_proj', 'down_proj'] }, 21),
      createRandomAdapter(architecture, { name: 'b', rank: 4, alpha: 16, targets: ['q_proj', 'k_proj', 'up_proj', 'down_proj'] }, 22),
    ],
    combinations: ['cat', 'linear', 'linear-peft0.4'],
  },
];

const PROMPT = [3, 14, 15, 9, 2, 6];
const STEP_WEIGHTS = [
  [0.7, 0.2, 0.1],
  [0.1, -0.5, 0.9],
  [0, 1, 0],
  [0.3, 0.3, 0.4],
  [1.2, 0, -0.2],
];

async function compareWithReference(model: RandomLlama, adapters: AdapterSource[], combination: Combination, packName: string): Promise<number[]> {
  const packDir = await buildPack(dirs, packName, model, adapters, combination);
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

  it('a base model without adapters matches the reference', async () => {
    const model = createRandomLlama({ numLayers: 1, vocabSize: 19 }, 7);
    const differences = await compareWithReference(model, [], 'cat', 'base-only');
    for (const difference of differences) expect(difference).toBeLessThanOrEqual(TOLERANCE);
  });
});
