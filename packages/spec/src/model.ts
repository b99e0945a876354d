// Architecture and adapter descriptions shared by the store (which parses them from Hugging Face
// and PEFT files), the graph builder and the reference forward. Plain data, no behaviour.

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
