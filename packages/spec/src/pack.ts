// The model pack: an ONNX decoder with run-time adapter mixing plus pack.json. Written by
// @lora-tle/graph, loaded by every backend. docs/model-pack.md is the prose version of this file.

import type { Combination } from './mix.js';
import type { LlamaArchitecture, LlamaLinearModule, ModulePath } from './model.js';

export const PACK_FORMAT_VERSION = 1;

export interface PackAdapterInfo {
  name: string;
  /** Rank per target module kind (the most common rank when rank_pattern varies by layer). */
  rank: number;
  targetModules: LlamaLinearModule[];
  /**
   * The rank of every module the adapter targets, by module path — only when they are not simply
   * `rank` on every layer's `targetModules` (rank_pattern, layers_to_transform). Absent otherwise,
   * and in packs built before it. Backends that read the stacked factors themselves need it.
   */
  moduleRanks?: Record<ModulePath, number>;
  sourceHash: string; // sha256 of adapter_model.safetensors
  baseModelNameOrPath: string | null;
}

export interface PackIo {
  inputIds: string; // 'input_ids'  int64 (batch_size, sequence_length)
  attentionMask: string; // 'attention_mask' int64 (batch_size, total_sequence_length)
  positionIds: string; // 'position_ids' int64 (batch_size, sequence_length)
  mixA: string; // A-side mixing coefficients, float32 (batch_size, N)
  mixB: string; // B-side mixing coefficients, float32 (batch_size, N)
  logits: string; // 'logits' float32 (batch_size, logits_length, V): the last logits_length positions
  /** int64 (1,): how many last positions get logits (1 = the next token; T = all). Absent in older packs: all. */
  logitsToKeep?: string | null;
  /**
   * The hidden output, when built with it: float32 (batch_size, H), the mean of this step's
   * final-norm states over its real tokens; or, with `hiddenPerPosition`, those final-norm states
   * (batch_size, sequence_length, H), which the backend averages (the graph then spends no nodes on
   * pooling in steps that do not ask for it).
   */
  hidden: string | null;
  /** True when `hidden` is per position (B, T, H). Absent in older packs: pooled (B, H). */
  hiddenPerPosition?: boolean;
  pastKey: string; // template with {i}: 'past_key_values.{i}.key'
  pastValue: string;
  presentKey: string; // 'present.{i}.key'
  presentValue: string;
  /**
   * The K/V rows one step appended to every layer's present.*, in one float32 output
   * (2·num_layers·batch_size, n_kv, sequence_length, d): present[:, :, total − T : total] of layer i's
   * key at rows [2i·B, (2i+1)·B), of its value at [(2i+1)·B, (2i+2)·B). A backend that keeps the
   * cache in its own buffers with spare capacity fetches this one output instead of the whole
   * present.* each step. Absent or null in packs built without it (and in the packs of 9e3c221…,
   * which named one output per layer and kind: those load as without it).
   */
  appended?: string | null; // 'appended_key_values'
}

/**
 * One graph input of the naive graph that carries LoRA factors. `a`: Aᵀ of `modules` side by side,
 * float32 (in, Σ r_m), module m's columns scaled by its scaling; `b`: Bᵀ of its one module, float32
 * (r_m, out_m).
 */
export interface PackFactorInput {
  name: string;
  side: 'a' | 'b';
  modules: { module: ModulePath; rank: number; inFeatures: number; outFeatures: number }[];
}

/**
 * The naive graph (`lora-tle build --naive-graph`): the same decoder with one LoRA adapter whose
 * factors are graph inputs instead of the stacked adapters, for the paper's loop (merge the adapters
 * into one every token, recompute) at the cost of the paper's forward. It shares the pack's base
 * weight file. A session of it is loaded with BackendLoadOptions.graph 'naive'.
 */
export interface PackNaiveGraph {
  model: string; // 'naive.onnx'
  modelSha256: string;
  factorInputs: PackFactorInput[];
}

export interface PackManifest {
  formatVersion: number;
  createdBy: string; // e.g. '@lora-tle/graph 0.1.0'
  /** sha256 of model.onnx (hex): the same sources can build another graph layout; absent in older packs. */
  modelSha256?: string;
  architecture: LlamaArchitecture;
  combination: Combination;
  adapters: PackAdapterInfo[]; // order = index in mixing inputs
  dtype: 'float32';
  opset: { 'ai.onnx': number; 'com.microsoft': number };
  io: PackIo;
  files: {
    model: string; // 'model.onnx'
    baseWeights: string; // external data file for base weights
    adapterWeights: string | null; // external data for stacked adapters
    tokenizer: string | null; // relative path of tokenizer.json, copied into the pack
    tokenizerConfig: string | null;
  };
  sourceHashes: Record<string, string>; // source file → sha256
  /** The naive graph, when built with it; absent or null otherwise. */
  naive?: PackNaiveGraph | null;
  /**
   * Set only in the manifest a backend derives for a session of the naive graph (naiveGraphPack in
   * @lora-tle/backend-core): that graph's factor inputs, fed from StepInput.adapterFactors. Never in pack.json.
   */
  factorInputs?: PackFactorInput[];
}
