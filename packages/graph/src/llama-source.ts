// What the graph builder reads: a Llama base model (architecture + fp32 tensors by Hugging Face
// name) and adapters (per-module LoRA factors). In-memory sources make the builder testable on
// random tiny models; load-sources.ts adapts checkpoint and adapter directories to the same shape.
// Not a file reader. (Module naming and shapes live in @lora-tle/spec, re-exported here.)

import { LLAMA_LINEAR_MODULES, LoraTleError, moduleShape, modulePath } from '@lora-tle/spec';
import type { LlamaArchitecture, LlamaLinearModule, LoraModuleWeights, ModulePath } from '@lora-tle/spec';

export { moduleShape, modulePath };

export interface LlamaWeightSource {
  architecture: LlamaArchitecture;
  /** An fp32 tensor, row-major, by Hugging Face name (`model.layers.0.self_attn.q_proj.weight`). */
  tensor(name: string): Float32Array | Promise<Float32Array>;
}

export interface AdapterSource {
  name: string;
  /** LoRA factors keyed by module path (`model.layers.0.self_attn.q_proj`). */
  modules: ReadonlyMap<ModulePath, LoraModuleWeights>;
  sourceHash: string; // sha256 of adapter_model.safetensors ('' when built in memory)
  baseModelNameOrPath: string | null;
}

/** Parses `model.layers.{L}.{self_attn|mlp}.{kind}`; null when it is not a Llama linear module. */
export function parseModulePath(architecture: LlamaArchitecture, path: ModulePath): { layer: number; kind: LlamaLinearModule } | null {
  const match = /^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)$/.exec(path);
  if (!match) return null;
  const layer = Number(match[1]);
  const kind = match[3] as LlamaLinearModule;
  if (!LLAMA_LINEAR_MODULES.includes(kind) || modulePath(layer, kind) !== path || layer >= architecture.numLayers) return null;
  return { layer, kind };
}

/** Reads a tensor and checks its element count against the expected shape. */
export async function readTensor(source: LlamaWeightSource, name: string, dims: readonly number[]): Promise<Float32Array> {
  const values = await source.tensor(name);
  const expected = dims.reduce((product, dim) => product * dim, 1);
  if (values.length !== expected) {
    throw new LoraTleError(
      'E_CONFIG_INVALID',
      `checkpoint tensor ${name} has ${values.length} values but config.json implies [${dims.join(', ')}]; check that config.json belongs to these weights`,
      { details: { tensor: name, expected: dims } },
    );
  }
  return values;
}

/** Checks that the architecture is one the graph can build. */
export function assertSupportedArchitecture(architecture: LlamaArchitecture): void {
  if (architecture.modelType !== 'llama') {
    throw new LoraTleError('E_MODEL_TYPE', `model_type "${architecture.modelType}" is not supported; lora-tle builds Llama-family models (model_type "llama")`);
  }
  const ropeType = (architecture.ropeScaling as { type: string }).type;
  if (!['default', 'linear', 'llama3'].includes(ropeType)) {
    throw new LoraTleError('E_ROPE_TYPE', `rope_scaling type "${ropeType}" is not supported; use default, linear or llama3`);
  }
  if (architecture.numHeads % architecture.numKvHeads !== 0) {
    throw new LoraTleError('E_CONFIG_INVALID', `num_key_value_heads (${architecture.numKvHeads}) must divide num_attention_heads (${architecture.numHeads})`);
  }
  if (architecture.headDim % 2 !== 0) {
    throw new LoraTleError('E_CONFIG_INVALID', `head_dim (${architecture.headDim}) must be even for rotary embeddings`);
  }
}
