// The reference forward's own checks: RoPE inverse frequencies against transformers'
// ROPE_INIT_FUNCTIONS (values printed by transformers 5.18), KV-cache consistency (one call =
// token-by-token calls), zero mixtures = no adapters, and rotate_half position behaviour.
// The full forward is checked against transformers + PEFT through the ONNX pack in
// packages/backend-node/src/node-backend.hf-parity.test.ts.

import { describe, expect, it } from 'vitest';
import type { LlamaArchitecture, LoraModuleWeights } from '@lora-tle/spec';
import { createReferenceCache, referenceForward, ropeCosSin, ropeInverseFrequencies, type ReferenceModel } from './reference-forward.js';
import { seededNormals } from './test-random.js';

const ARCH: LlamaArchitecture = {
  modelType: 'llama',
  vocabSize: 11,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 4,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: { type: 'default' },
  maxPositionEmbeddings: 32,
  tieWordEmbeddings: true,
  attentionBias: false,
  mlpBias: false,
  bosTokenId: null,
  eosTokenIds: [],
};

function randomModel(): ReferenceModel {
  const weights = new Map<string, Float32Array>();
  let seed = 1;
  const add = (name: string, count: number, scale: number, offset = 0): void => {
    weights.set(name, Float32Array.from(seededNormals(count, seed++), (value) => value * scale + offset));
  };
  const { vocabSize: V, hiddenSize: H, intermediateSize: I, numHeads, numKvHeads, headDim: d } = ARCH;
  add('model.embed_tokens.weight', V * H, 1);
  add('model.norm.weight', H, 0.1, 1);
  for (let layer = 0; layer < ARCH.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    add(`${p}.input_layernorm.weight`, H, 0.1, 1);
    add(`${p}.post_attention_layernorm.weight`, H, 0.1, 1);
    add(`${p}.self_attn.q_proj.weight`, numHeads * d * H, 0.25);
    add(`${p}.self_attn.k_proj.weight`, numKvHeads * d * H, 0.25);
    add(`${p}.self_attn.v_proj.weight`, numKvHeads * d * H, 0.25);
    add(`${p}.self_attn.o_proj.weight`, H * numHeads * d, 0.25);
    add(`${p}.mlp.gate_proj.weight`, I * H, 0.25);
    add(`${p}.mlp.up_proj.weight`, I * H, 0.25);
    add(`${p}.mlp.down_proj.weight`, H * I, 0.2);
  }
  const lora = (module: string, inFeatures: number, outFeatures: number, rank: number): LoraModuleWeights => ({
    module,
    rank,
    alpha: 2 * rank,
    scaling: 2,
    inFeatures,
    outFeatures,
    a: Float32Array.from(seededNormals(rank * inFeatures, seed++), (value) => value * 0.3),
    b: Float32Array.from(seededNormals(outFeatures * rank, seed++), (value) => value * 0.3),
  });
  const q = 'model.layers.0.self_attn.q_proj';
  const down = 'model.layers.1.mlp.down_proj';
  return {
    architecture: ARCH,
    weights,
    combination: 'cat',
    adapters: [{ modules: new Map([[q, lora(q, 16, 16, 2)]]) }, { modules: new Map([[down, lora(down, 24, 16, 3)]]) }],
  };
}

const closeTo = (actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs((actual[i] as number) - (expected[i] as number))).toBeLessThanOrEqual(tolerance);
};

describe('ropeInverseFrequencies', () => {
  it('matches transformers for linear scaling', () => {
    const invFreq = ropeInverseFrequencies({ ...ARCH, headDim: 8, ropeScaling: { type: 'linear', factor: 2 } });
    closeTo(invFreq, [0.5, 0.05000000074505806, 0.004999999888241291, 0.0005000000237487257], 1e-9);
  });

  it('matches transformers for llama3 scaling (low, medium and high frequency bands)', () => {
    const invFreq = ropeInverseFrequencies({
      ...ARCH,
      headDim: 16,
      ropeTheta: 500000,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8 },
    });
    const expected = [0.20469485223293304, 0.024240344762802124, 0.004700753837823868, 0.0009115831344388425, 0.00017677668074611574, 3.428102354519069e-05, 6.647869668086059e-06, 1.289173155782919e-06];
    invFreq.forEach((value, j) => expect(Math.abs(value - (expected[j] as number)) / (expected[j] as number)).toBeLessThan(1e-6));
  });

  it('gives the identity rotation at position 0', () => {
    const { cos, sin } = ropeCosSin(0, ropeInverseFrequencies(ARCH));
    expect(Array.from(cos)).toEqual([1, 1]);
    expect(Array.from(sin)).toEqual([0, 0]);
  });
});

describe('referenceForward', () => {
  const model = randomModel();
  const tokens = [1, 5, 9, 3, 7];
  const mixture = { a: Float32Array.of(0.6, -0.8), b: Float32Array.of(1, 1) };

  it('gives the same logits for one call as for token-by-token calls with a cache', () => {
    const whole = referenceForward(model, tokens, mixture, createReferenceCache(ARCH));
    const cache = createReferenceCache(ARCH);
    const pieces = [referenceForward(model, tokens.slice(0, 2), mixture, cache), ...tokens.slice(2).map((token) => referenceForward(model, [token], mixture, cache))];
    closeTo(Float32Array.from(pieces.flatMap((piece) => Array.from(piece.logits))), whole.logits, 1e-6);
    expect(cache.keys[0]).toHaveLength(tokens.length);
  });

  it('with zero coefficients equals the model without adapters, and not otherwise', () => {
    const base = referenceForward({ ...model, adapters: [] }, tokens, { a: new Float32Array(0), b: new Float32Array(0) }, createReferenceCache(ARCH));
    const zero = referenceForward(model, tokens, { a: new Float32Array(2), b: Float32Array.of(1, 1) }, createReferenceCache(ARCH));
    const mixed = referenceForward(model, tokens, mixture, createReferenceCache(ARCH));
    closeTo(zero.logits, base.logits, 0);
    expect(Math.max(...mixed.logits.map((value, i) => Math.abs(value - (base.logits[i] as number))))).toBeGreaterThan(1e-2);
  });

  it('is invariant to a uniform shift of positions (RoPE is relative)', () => {
    const shifted = referenceForward(model, tokens, mixture, createReferenceCache(ARCH), tokens.map((_, t) => t + 3));
    const plain = referenceForward(model, tokens, mixture, createReferenceCache(ARCH));
    // RoPE is relative: q·k depends on position differences only, so a uniform shift changes nothing.
    closeTo(shifted.logits, plain.logits, 1e-4);
  });
});
