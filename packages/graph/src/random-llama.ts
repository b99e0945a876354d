// Random tiny Llama models and LoRA adapters for tests (this package's, the backends', the
// engine's): deterministic from a seed, any architecture, adapters of any rank and targets with
// B ≠ 0. Test support exported on purpose so every backend is checked on the same models; not for
// anything that needs real weights.

import type { LlamaArchitecture, LlamaLinearModule, LoraModuleWeights, ModulePath } from '@lora-tle/spec';
import { type AdapterSource, type LlamaWeightSource, moduleShape, modulePath } from './llama-source.js';

/** mulberry32 uniforms mapped to N(0, 1) with Box–Muller. */
function normals(count: number, seed: number, scale: number): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.max(((t ^ (t >>> 14)) >>> 0) / 4294967296, 1e-12);
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = scale * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

export const TINY_ARCHITECTURE: LlamaArchitecture = {
  modelType: 'llama',
  vocabSize: 37,
  hiddenSize: 32,
  intermediateSize: 48,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: { type: 'default' },
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: false,
  attentionBias: false,
  mlpBias: false,
  bosTokenId: 1,
  eosTokenIds: [2],
};

export interface RandomLlama extends LlamaWeightSource {
  weights: Map<string, Float32Array>;
}

export function createRandomLlama(overrides: Partial<LlamaArchitecture> = {}, seed = 1): RandomLlama {
  const architecture = { ...TINY_ARCHITECTURE, ...overrides };
  const { vocabSize: V, hiddenSize: H } = architecture;
  const weights = new Map<string, Float32Array>();
  let next = seed * 1000;
  const add = (name: string, count: number, scale: number, offset = 0): void => {
    const values = normals(count, next++, scale);
    weights.set(name, offset === 0 ? values : values.map((value) => value + offset));
  };
  add('model.embed_tokens.weight', V * H, 1);
  for (let layer = 0; layer < architecture.numLayers; layer++) {
    add(`model.layers.${layer}.input_layernorm.weight`, H, 0.1, 1);
    add(`model.layers.${layer}.post_attention_layernorm.weight`, H, 0.1, 1);
    for (const kind of ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const) {
      const [outFeatures, inFeatures] = moduleShape(architecture, kind);
      add(`${modulePath(layer, kind)}.weight`, outFeatures * inFeatures, 1 / Math.sqrt(inFeatures));
      const isMlp = kind === 'gate_proj' || kind === 'up_proj' || kind === 'down_proj';
      if (isMlp ? architecture.mlpBias : architecture.attentionBias) add(`${modulePath(layer, kind)}.bias`, outFeatures, 0.1);
    }
  }
  add('model.norm.weight', H, 0.1, 1);
  if (!architecture.tieWordEmbeddings) add('lm_head.weight', V * H, 1 / Math.sqrt(H));
  return {
    architecture,
    weights,
    tensor(name: string): Float32Array {
      const value = weights.get(name);
      if (!value) throw new Error(`random llama has no tensor ${name}`);
      return value;
    },
  };
}

export interface RandomAdapterSpec {
  name: string;
  rank: number;
  alpha?: number; // default 2·rank
  targets: readonly LlamaLinearModule[];
  layers?: readonly number[]; // default all
  /** Per-module rank overrides by kind (like rank_pattern). */
  rankByKind?: Partial<Record<LlamaLinearModule, number>>;
}

export function createRandomAdapter(architecture: LlamaArchitecture, spec: RandomAdapterSpec, seed: number): AdapterSource {
  const modules = new Map<ModulePath, LoraModuleWeights>();
  let next = seed * 7919;
  const layers = spec.layers ?? Array.from({ length: architecture.numLayers }, (_, layer) => layer);
  for (const layer of layers) {
    for (const kind of spec.targets) {
      const [outFeatures, inFeatures] = moduleShape(architecture, kind);
      const rank = spec.rankByKind?.[kind] ?? spec.rank;
      const alpha = spec.alpha ?? 2 * spec.rank;
      const module = modulePath(layer, kind);
      modules.set(module, {
        module,
        rank,
        alpha,
        scaling: alpha / rank,
        a: normals(rank * inFeatures, next++, 1 / Math.sqrt(inFeatures)),
        b: normals(outFeatures * rank, next++, 0.3 / Math.sqrt(rank)),
        inFeatures,
        outFeatures,
      });
    }
  }
  return { name: spec.name, modules, sourceHash: '', baseModelNameOrPath: null };
}
