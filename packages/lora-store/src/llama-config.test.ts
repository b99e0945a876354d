import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLoraTleError } from '@lora-tle/spec';
import { parseLlamaConfig } from './llama-config.js';

const fixtures = fileURLToPath(new URL('../test-fixtures/', import.meta.url));
const minimal = { model_type: 'llama', vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 8 };

function codeOf(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    if (isLoraTleError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

describe('parseLlamaConfig', () => {
  it('reads a config.json written by transformers 5 (rope_parameters form)', async () => {
    const architecture = parseLlamaConfig(JSON.parse(await readFile(`${fixtures}tiny-llama/config.json`, 'utf8')));
    expect(architecture).toEqual({
      modelType: 'llama', vocabSize: 32, hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 4,
      rmsNormEps: 1e-6, ropeTheta: 10000, ropeScaling: { type: 'default' }, maxPositionEmbeddings: 64, tieWordEmbeddings: false,
      attentionBias: false, mlpBias: false, bosTokenId: 1, eosTokenIds: [2],
    });
  });

  it('applies LlamaConfig defaults', () => {
    const architecture = parseLlamaConfig(minimal);
    expect(architecture.numKvHeads).toBe(8);
    expect(architecture.headDim).toBe(8);
    expect(architecture.ropeTheta).toBe(10000);
    expect(architecture.ropeScaling).toEqual({ type: 'default' });
    expect(architecture.rmsNormEps).toBe(1e-6);
    expect(architecture.eosTokenIds).toEqual([]);
    expect(architecture.bosTokenId).toBeNull();
  });

  it('takes an explicit head_dim, an eos list and rope_theta', () => {
    const architecture = parseLlamaConfig({ ...minimal, head_dim: 16, eos_token_id: [2, 7], rope_theta: 500000, num_key_value_heads: 2 });
    expect(architecture.headDim).toBe(16);
    expect(architecture.eosTokenIds).toEqual([2, 7]);
    expect(architecture.ropeTheta).toBe(500000);
    expect(architecture.numKvHeads).toBe(2);
  });

  it('reads linear and llama3 rope scaling under "type", "rope_type" and rope_parameters', () => {
    expect(parseLlamaConfig({ ...minimal, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling).toEqual({ type: 'linear', factor: 2 });
    const llama3 = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const expected = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
    expect(parseLlamaConfig({ ...minimal, rope_scaling: { rope_type: 'llama3', ...llama3 } }).ropeScaling).toEqual(expected);
    const modern = parseLlamaConfig({ ...minimal, rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...llama3 } });
    expect(modern.ropeScaling).toEqual(expected);
    expect(modern.ropeTheta).toBe(500000);
  });

  it('refuses unsupported rope types with E_ROPE_TYPE', () => {
    expect(codeOf(() => parseLlamaConfig({ ...minimal, rope_scaling: { type: 'dynamic', factor: 2 } }))).toMatch(/^E_ROPE_TYPE: .*"dynamic"/);
    expect(codeOf(() => parseLlamaConfig({ ...minimal, rope_parameters: { rope_type: 'yarn', factor: 4 } }))).toMatch(/^E_ROPE_TYPE/);
    expect(codeOf(() => parseLlamaConfig({ ...minimal, rope_scaling: { type: 'linear' } }))).toMatch(/^E_CONFIG_INVALID: .*"factor"/);
  });

  it('refuses other model types with E_MODEL_TYPE', () => {
    expect(codeOf(() => parseLlamaConfig({ ...minimal, model_type: 'gpt2' }))).toMatch(/^E_MODEL_TYPE: .*"gpt2"/);
  });

  it('names the missing or invalid field with E_CONFIG_INVALID', () => {
    const { hidden_size: _omitted, ...noHidden } = minimal;
    expect(codeOf(() => parseLlamaConfig(noHidden))).toMatch(/^E_CONFIG_INVALID: .*"hidden_size" is missing/);
    expect(codeOf(() => parseLlamaConfig({ ...minimal, vocab_size: -3 }))).toMatch(/^E_CONFIG_INVALID: .*"vocab_size"/);
    expect(codeOf(() => parseLlamaConfig({ ...minimal, num_key_value_heads: 3 }))).toMatch(/^E_CONFIG_INVALID: .*"num_key_value_heads"/);
    expect(codeOf(() => parseLlamaConfig({ ...minimal, tie_word_embeddings: 'yes' }))).toMatch(/^E_CONFIG_INVALID: .*"tie_word_embeddings"/);
    expect(codeOf(() => parseLlamaConfig({ ...minimal, hidden_act: 'gelu' }))).toMatch(/^E_CONFIG_INVALID: .*"hidden_act"/);
    expect(codeOf(() => parseLlamaConfig({ ...minimal, eos_token_id: ['x'] }))).toMatch(/^E_CONFIG_INVALID: .*"eos_token_id"/);
    expect(codeOf(() => parseLlamaConfig({ ...minimal, model_type: undefined }))).toMatch(/^E_CONFIG_INVALID: .*"model_type"/);
    expect(codeOf(() => parseLlamaConfig([]))).toMatch(/^E_CONFIG_INVALID/);
  });
});
