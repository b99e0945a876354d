// Test support, not exported: a real miniature Backend made of @lora-tle/mixing's reference forward
// (the oracle the ONNX backends are tested against) on a seeded random tiny Llama with LoRA
// adapters, plus a character tokenizer. Rows of a batch run one by one through the reference
// forward, feeding only tokens the attention mask marks real, at the positions the engine gives.

import type {
  Backend,
  BackendSession,
  Combination,
  KvCache,
  LlamaArchitecture,
  LoraModuleWeights,
  PackManifest,
  StepInput,
  StepOutput,
} from '@lora-tle/spec';
import { LLAMA_LINEAR_MODULES, LoraTleError } from '@lora-tle/spec';
import { createReferenceCache, referenceForward, type ReferenceKvCache, type ReferenceModel } from '@lora-tle/mixing';
import type { EngineTokenizer } from '../decode-loop.js';

// ---- character tokenizer: 0 unk, 1 bos, 2 eos, then the alphabet ----
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz .:#?';
export const TINY_VOCAB = 3 + ALPHABET.length; // V = 34

export const charTokenizer: EngineTokenizer = {
  encode: (text) => [1, ...[...text].map((char) => 3 + Math.max(0, ALPHABET.indexOf(char)))],
  decode: (ids) => ids.filter((id) => id >= 3).map((id) => ALPHABET[id - 3]).join(''),
};

// ---- a random tiny model ----
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

export const TINY_ARCHITECTURE: LlamaArchitecture = {
  modelType: 'llama',
  vocabSize: TINY_VOCAB,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 8,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: { type: 'default' },
  maxPositionEmbeddings: 48,
  tieWordEmbeddings: true,
  attentionBias: false,
  mlpBias: false,
  bosTokenId: 1,
  eosTokenIds: [2],
};

export const TINY_ADAPTERS = ['math', 'science', 'code'];

export function createTinyModel(combination: Combination = 'cat', seed = 5): ReferenceModel {
  const arch = TINY_ARCHITECTURE;
  const next = random(seed);
  const tensor = (count: number, scale: number) => Float32Array.from({ length: count }, () => next() * scale);
  const weights = new Map<string, Float32Array>();
  const { hiddenSize: H, intermediateSize: I, headDim: d } = arch;
  weights.set('model.embed_tokens.weight', tensor(arch.vocabSize * H, 2));
  weights.set('model.norm.weight', Float32Array.from({ length: H }, () => 1));
  const shapes: Record<string, [number, number]> = {
    q_proj: [arch.numHeads * d, H],
    k_proj: [arch.numKvHeads * d, H],
    v_proj: [arch.numKvHeads * d, H],
    o_proj: [H, arch.numHeads * d],
    gate_proj: [I, H],
    up_proj: [I, H],
    down_proj: [H, I],
  };
  const modulePath = (layer: number, module: string) =>
    `model.layers.${layer}.${['q_proj', 'k_proj', 'v_proj', 'o_proj'].includes(module) ? 'self_attn' : 'mlp'}.${module}`;
  for (let layer = 0; layer < arch.numLayers; layer++) {
    weights.set(`model.layers.${layer}.input_layernorm.weight`, Float32Array.from({ length: H }, () => 1 + next() * 0.2));
    weights.set(`model.layers.${layer}.post_attention_layernorm.weight`, Float32Array.from({ length: H }, () => 1 + next() * 0.2));
    for (const module of LLAMA_LINEAR_MODULES) {
      const [out, inFeatures] = shapes[module]!;
      weights.set(`${modulePath(layer, module)}.weight`, tensor(out * inFeatures, 1));
    }
  }
  const rank = 2;
  const adapters = TINY_ADAPTERS.map(() => {
    const modules = new Map<string, LoraModuleWeights>();
    for (let layer = 0; layer < arch.numLayers; layer++) {
      for (const module of LLAMA_LINEAR_MODULES) {
        const [out, inFeatures] = shapes[module]!;
        const path = modulePath(layer, module);
        modules.set(path, { module: path, rank, alpha: 4, scaling: 2, a: tensor(rank * inFeatures, 1), b: tensor(out * rank, 1), inFeatures, outFeatures: out });
      }
    }
    return { modules };
  });
  return { architecture: arch, weights, adapters, combination };
}

export function tinyPack(model: ReferenceModel): PackManifest {
  return {
    formatVersion: 1,
    createdBy: 'engine test-support',
    architecture: model.architecture,
    combination: model.combination,
    adapters: TINY_ADAPTERS.map((name) => ({ name, rank: 2, targetModules: [...LLAMA_LINEAR_MODULES], sourceHash: '', baseModelNameOrPath: null })),
    dtype: 'float32',
    opset: { 'ai.onnx': 17, 'com.microsoft': 1 },
    io: {
      inputIds: 'input_ids', attentionMask: 'attention_mask', positionIds: 'position_ids', mixA: 'mix_a', mixB: 'mix_b',
      logits: 'logits', hidden: null, pastKey: 'past_key_values.{i}.key', pastValue: 'past_key_values.{i}.value',
      presentKey: 'present.{i}.key', presentValue: 'present.{i}.value',
    },
    files: { model: 'model.onnx', baseWeights: 'model.onnx.data', adapterWeights: null, tokenizer: null, tokenizerConfig: null },
    sourceHashes: {},
  };
}

// ---- the Backend ----
class ReferenceCache implements KvCache {
  readonly backendId = 'reference';
  disposed = false;
  constructor(readonly rows: ReferenceKvCache[], readonly length: number) {}
  get batchSize() {
    return this.rows.length;
  }
  dispose() {
    this.disposed = true;
  }
}

export interface ReferenceBackendLog {
  steps: StepInput[];
  caches: ReferenceCache[];
}

/** `adjustLogits` lets a test steer a row (e.g. force EOS at a step); the model math is untouched. */
export function createReferenceBackend(
  model: ReferenceModel,
  log: ReferenceBackendLog = { steps: [], caches: [] },
  adjustLogits?: (row: number, stepIndex: number, logits: Float32Array) => void,
): Backend & { log: ReferenceBackendLog } {
  const V = model.architecture.vocabSize;
  const session: BackendSession = {
    backendId: 'reference',
    pack: tinyPack(model),
    device: 'cpu (reference forward)',
    async doStep(input: StepInput): Promise<StepOutput> {
      const { batchSize: B, sequenceLength: T } = input;
      if (input.cache && (input.cache as ReferenceCache).disposed) throw new LoraTleError('E_BACKEND_DISPOSED', 'cache used after dispose');
      const past = input.cache ? input.cache.length : 0;
      const rows = input.cache ? (input.cache as ReferenceCache).rows : Array.from({ length: B }, () => createReferenceCache(model.architecture));
      const logits = new Float32Array(B * V); // (B, 1, V)
      for (let b = 0; b < B; b++) {
        const tokens: number[] = [];
        const positions: number[] = [];
        for (let t = 0; t < T; t++) {
          const real = input.attentionMask ? input.attentionMask[b * (past + T) + past + t] === 1 : true;
          if (!real) continue;
          tokens.push(input.inputIds[b * T + t]!);
          positions.push(input.positionIds ? input.positionIds[b * T + t]! : past + t);
        }
        const output = referenceForward(model, tokens, input.mix[b]!, rows[b]!, positions);
        const last = output.logits.slice((tokens.length - 1) * V, tokens.length * V);
        adjustLogits?.(b, log.steps.length, last);
        logits.set(last, b * V);
      }
      log.steps.push(input);
      const cache = new ReferenceCache(rows, past + T);
      log.caches.push(cache);
      return { logits, logitsPositions: 1, cache };
    },
    async dispose() {},
  };
  return { id: 'reference', log, doLoad: async () => session };
}
