// config.json → LlamaArchitecture: the Hugging Face LlamaConfig fields with their defaults
// applied and every value checked. Pure (takes parsed JSON); reading the file is checkpoint.ts's job.
// Not here: weight names and shapes (llama-weights.ts).

import { LoraTleError, type LlamaArchitecture, type RopeScaling } from '@lora-tle/spec';

export const SUPPORTED_MODEL_TYPES: readonly string[] = ['llama'];

type Json = Record<string, unknown>;

function invalid(field: string, problem: string, label: string): never {
  throw new LoraTleError('E_CONFIG_INVALID', `${label}: "${field}" ${problem}; fix config.json (Hugging Face LlamaConfig field names)`, {
    details: { file: label, field },
  });
}

function positiveInteger(config: Json, field: string, label: string, fallback?: number): number {
  const value = config[field] ?? fallback;
  if (value === undefined) invalid(field, 'is missing', label);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) invalid(field, `must be a positive integer, got ${JSON.stringify(value)}`, label);
  return value;
}

function positiveNumber(config: Json, field: string, label: string, fallback: number): number {
  const value = config[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) invalid(field, `must be a positive number, got ${JSON.stringify(value)}`, label);
  return value;
}

function flag(config: Json, field: string, label: string, fallback: boolean): boolean {
  const value = config[field] ?? fallback;
  if (typeof value !== 'boolean') invalid(field, `must be true or false, got ${JSON.stringify(value)}`, label);
  return value;
}

function tokenId(value: unknown, field: string, label: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) invalid(field, `must be a token id, got ${JSON.stringify(value)}`, label);
  return value;
}

/** rope_scaling (older files) or rope_parameters (transformers ≥ 5) → theta and scaling. */
function parseRope(config: Json, label: string): { ropeTheta: number; ropeScaling: RopeScaling } {
  const field = config.rope_parameters != null ? 'rope_parameters' : 'rope_scaling';
  const raw = config[field];
  if (raw != null && (typeof raw !== 'object' || Array.isArray(raw))) invalid(field, 'must be an object or null', label);
  const rope = (raw ?? {}) as Json;
  const thetaSource = rope.rope_theta !== undefined ? rope : config;
  const ropeTheta = positiveNumber(thetaSource, 'rope_theta', label, 10000);
  const type = rope.rope_type ?? rope.type ?? 'default';
  const factor = () => positiveNumber(rope, 'factor', label, Number.NaN);
  switch (type) {
    case 'default':
      return { ropeTheta, ropeScaling: { type: 'default' } };
    case 'linear':
      return { ropeTheta, ropeScaling: { type: 'linear', factor: factor() } };
    case 'llama3':
      return {
        ropeTheta,
        ropeScaling: {
          type: 'llama3',
          factor: factor(),
          lowFreqFactor: positiveNumber(rope, 'low_freq_factor', label, Number.NaN),
          highFreqFactor: positiveNumber(rope, 'high_freq_factor', label, Number.NaN),
          originalMaxPositionEmbeddings: positiveInteger(rope, 'original_max_position_embeddings', label),
        },
      };
    default:
      throw new LoraTleError(
        'E_ROPE_TYPE',
        `${label}: ${field} type ${JSON.stringify(type)} is not supported (supported: default, linear, llama3); use a checkpoint without it`,
        { details: { file: label, ropeType: type } },
      );
  }
}

/** Validates a parsed config.json and applies LlamaConfig defaults. `label` names the file in messages. */
export function parseLlamaConfig(value: unknown, label = 'config.json'): LlamaArchitecture {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LoraTleError('E_CONFIG_INVALID', `${label} is not a JSON object; point at a Hugging Face model directory`);
  }
  const config = value as Json;
  const modelType = config.model_type;
  if (typeof modelType !== 'string') invalid('model_type', 'is missing', label);
  if (!SUPPORTED_MODEL_TYPES.includes(modelType)) {
    throw new LoraTleError(
      'E_MODEL_TYPE',
      `${label}: model_type "${modelType}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')}); use a Llama-architecture checkpoint`,
      { details: { file: label, modelType } },
    );
  }
  if (config.hidden_act !== undefined && config.hidden_act !== 'silu') invalid('hidden_act', `must be "silu", got ${JSON.stringify(config.hidden_act)}`, label);

  const hiddenSize = positiveInteger(config, 'hidden_size', label);
  const numHeads = positiveInteger(config, 'num_attention_heads', label);
  const numKvHeads = positiveInteger(config, 'num_key_value_heads', label, numHeads);
  if (numHeads % numKvHeads !== 0) invalid('num_key_value_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`, label);
  if (config.head_dim == null && hiddenSize % numHeads !== 0) invalid('hidden_size', `(${hiddenSize}) must be divisible by num_attention_heads (${numHeads}) when head_dim is absent`, label);
  const headDim = positiveInteger(config, 'head_dim', label, hiddenSize / numHeads);

  const eos = config.eos_token_id;
  const eosTokenIds = eos == null ? [] : Array.isArray(eos) ? eos.map((id) => tokenId(id, 'eos_token_id', label)) : [tokenId(eos, 'eos_token_id', label)];

  return {
    modelType,
    vocabSize: positiveInteger(config, 'vocab_size', label),
    hiddenSize,
    intermediateSize: positiveInteger(config, 'intermediate_size', label),
    numLayers: positiveInteger(config, 'num_hidden_layers', label),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: positiveNumber(config, 'rms_norm_eps', label, 1e-6),
    ...parseRope(config, label),
    maxPositionEmbeddings: positiveInteger(config, 'max_position_embeddings', label, 2048),
    tieWordEmbeddings: flag(config, 'tie_word_embeddings', label, false),
    attentionBias: flag(config, 'attention_bias', label, false),
    mlpBias: flag(config, 'mlp_bias', label, false),
    bosTokenId: config.bos_token_id == null ? null : tokenId(config.bos_token_id, 'bos_token_id', label),
    eosTokenIds,
  };
}
