// Test support (not exported): a small valid pack.json object and a step for it, no files.

import { PACK_FORMAT_VERSION } from '@lora-tle/spec';
import type { PackManifest, StepInput } from '@lora-tle/spec';

/** 2 layers, n_kv 2, d 4, V 11, H 8, 3 adapters, 16 positions. */
export function smallPack(): PackManifest {
  return {
    formatVersion: PACK_FORMAT_VERSION,
    createdBy: 'backend-core test',
    architecture: {
      modelType: 'llama', vocabSize: 11, hiddenSize: 8, intermediateSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 2, headDim: 4,
      rmsNormEps: 1e-6, ropeTheta: 10000, ropeScaling: { type: 'default' }, maxPositionEmbeddings: 16, tieWordEmbeddings: false,
      attentionBias: false, mlpBias: false, bosTokenId: 1, eosTokenIds: [2],
    },
    combination: 'cat',
    adapters: ['x', 'y', 'z'].map((name) => ({ name, rank: 2, targetModules: ['q_proj'], sourceHash: '', baseModelNameOrPath: null })),
    dtype: 'float32',
    opset: { 'ai.onnx': 21, 'com.microsoft': 1 },
    io: {
      inputIds: 'input_ids', attentionMask: 'attention_mask', positionIds: 'position_ids', mixA: 'mix_a', mixB: 'mix_b', logits: 'logits', hidden: null,
      pastKey: 'past_key_values.{i}.key', pastValue: 'past_key_values.{i}.value', presentKey: 'present.{i}.key', presentValue: 'present.{i}.value',
    },
    files: { model: 'model.onnx', baseWeights: 'base.weights', adapterWeights: 'adapters.weights', tokenizer: null, tokenizerConfig: null },
    sourceHashes: {},
  };
}

/** Coefficients (a = weights, b = weights·10) so that a and b are told apart. */
export function mixRow(...weights: number[]): { a: Float32Array; b: Float32Array } {
  return { a: Float32Array.from(weights), b: Float32Array.from(weights, (weight) => weight * 10) };
}

export function smallStep(overrides: Partial<StepInput> = {}): StepInput {
  return { inputIds: Int32Array.of(3, 4, 5), batchSize: 1, sequenceLength: 3, mix: [mixRow(1, 0, 0)], cache: null, ...overrides };
}
