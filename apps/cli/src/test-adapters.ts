// Test support (not a test): writes tiny Llama checkpoints and PEFT adapters with lora-store's
// writers into a directory, with seeded random weights (B ≠ 0, so merges are not trivially zero).

import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LlamaLinearModule, LoraModuleWeights } from '@lora-tle/spec';
import { encodeSafetensorsBytes, expectedLlamaWeights, linearFeatures, linearModulePath, parseLlamaConfig } from '@lora-tle/lora-store';
import { writePeftAdapter } from '@lora-tle/lora-store/node';

export const TINY_ARCHITECTURE_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 64,
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
};

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

function randomValues(count: number, random: () => number): Float32Array {
  return Float32Array.from({ length: count }, () => random());
}

/** config.json + model.safetensors of a tiny LlamaForCausalLM. */
export async function writeTinyCheckpoint(dir: string, config: Record<string, unknown> = TINY_ARCHITECTURE_CONFIG, seed = 1): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const random = seededRandom(seed);
  const architecture = parseLlamaConfig(config);
  const tensors = [...expectedLlamaWeights(architecture)].map(([name, shape]) => ({
    name,
    shape,
    data: randomValues(shape.reduce((product, dimension) => product * dimension, 1), random),
  }));
  await writeFile(join(dir, 'model.safetensors'), encodeSafetensorsBytes(tensors, { format: 'pt' }));
}

export interface TinyAdapterOptions {
  rank?: number;
  alpha?: number;
  targets?: LlamaLinearModule[];
  base?: string | null;
  seed?: number;
  /** Architecture config the adapter's shapes come from (default the tiny one). */
  config?: Record<string, unknown>;
}

/** A PEFT adapter for the tiny architecture, written with lora-store's writePeftAdapter. */
export async function writeTinyAdapter(dir: string, options: TinyAdapterOptions = {}): Promise<void> {
  const { rank = 4, alpha = 8, targets = ['q_proj', 'v_proj'], base = 'tiny-base', seed = 7 } = options;
  const architecture = parseLlamaConfig(options.config ?? TINY_ARCHITECTURE_CONFIG);
  const random = seededRandom(seed);
  const modules: LoraModuleWeights[] = [];
  for (let layer = 0; layer < architecture.numLayers; layer++) {
    for (const target of targets) {
      const { inFeatures, outFeatures } = linearFeatures(architecture, target);
      modules.push({
        module: linearModulePath(layer, target),
        rank,
        alpha,
        scaling: alpha / rank,
        inFeatures,
        outFeatures,
        a: randomValues(rank * inFeatures, random), // (r, in)
        b: randomValues(outFeatures * rank, random), // (out, r)
      });
    }
  }
  await writePeftAdapter(dir, {
    config: {
      r: rank,
      loraAlpha: alpha,
      useRslora: false,
      rankPattern: {},
      alphaPattern: {},
      targetModules: targets,
      layersToTransform: null,
      baseModelNameOrPath: base,
      fanInFanOut: false,
      peftType: 'LORA',
    },
    modules,
  });
}
