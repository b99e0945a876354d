// Architecture and adapter descriptions shared by the store (which parses them from Hugging Face
// and PEFT files), the graph builder, the backends and the reference forward: plain data, and the
// Llama family's module naming and shapes.

/** Linear modules of a Llama decoder layer that a LoRA adapter can target. */
export const LLAMA_LINEAR_MODULES = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;
export type LlamaLinearModule = (typeof LLAMA_LINEAR_MODULES)[number];

export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/** A validated Llama-family architecture (config.json after defaults are applied). */
export interface LlamaArchitecture {
  modelType: string; // 'llama' (others of the family later)
  vocabSize: number; // V
  hiddenSize: number; // H
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number; // divides numHeads; GQA group = numHeads / numKvHeads
  headDim: number; // d; defaults to H / numHeads
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

/** Module path inside the Hugging Face model, e.g. `model.layers.3.self_attn.q_proj`. */
export type ModulePath = string;

/** One LoRA pair for one module: ΔW = scaling · B · A. */
export interface LoraModuleWeights {
  module: ModulePath;
  rank: number; // r
  alpha: number;
  scaling: number; // α/r, or α/√r with rslora
  a: Float32Array; // (r, in)
  b: Float32Array; // (out, r)
  inFeatures: number;
  outFeatures: number;
}

/** The parts of adapter_config.json that change inference, resolved. */
export interface LoraAdapterConfig {
  r: number;
  loraAlpha: number;
  useRslora: boolean;
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  targetModules: string[] | string; // list (suffix match) or a regex string (full match)
  layersToTransform: number[] | null;
  baseModelNameOrPath: string | null;
  fanInFanOut: boolean;
  peftType: 'LORA';
}

/** Where each linear module sits in a Llama layer (Hugging Face naming). */
const MODULE_PARENT: Record<LlamaLinearModule, 'self_attn' | 'mlp'> = {
  q_proj: 'self_attn',
  k_proj: 'self_attn',
  v_proj: 'self_attn',
  o_proj: 'self_attn',
  gate_proj: 'mlp',
  up_proj: 'mlp',
  down_proj: 'mlp',
};

/** `model.layers.{layer}.{self_attn|mlp}.{kind}`. */
export function modulePath(layer: number, kind: LlamaLinearModule): ModulePath {
  return `model.layers.${layer}.${MODULE_PARENT[kind]}.${kind}`;
}

/** [out, in] of a linear module: W is (out, in) as in Hugging Face. */
export function moduleShape(architecture: LlamaArchitecture, kind: LlamaLinearModule): [number, number] {
  const { hiddenSize: H, intermediateSize: I, numHeads, numKvHeads, headDim: d } = architecture;
  switch (kind) {
    case 'q_proj':
      return [numHeads * d, H];
    case 'k_proj':
    case 'v_proj':
      return [numKvHeads * d, H];
    case 'o_proj':
      return [H, numHeads * d];
    case 'gate_proj':
    case 'up_proj':
      return [I, H];
    case 'down_proj':
      return [H, I];
  }
}
