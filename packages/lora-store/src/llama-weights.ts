// The tensors a LlamaForCausalLM checkpoint holds, with their shapes, derived from the
// architecture; and the in/out features of each LoRA-targetable linear module. The one place
// Llama weight names are spelled out.

import { LLAMA_LINEAR_MODULES, type LlamaArchitecture, type LlamaLinearModule, type ModulePath } from '@lora-tle/spec';

/** 'self_attn' or 'mlp': the submodule a linear module lives in. */
export function linearModuleParent(module: LlamaLinearModule): 'self_attn' | 'mlp' {
  return module === 'gate_proj' || module === 'up_proj' || module === 'down_proj' ? 'mlp' : 'self_attn';
}

/** `model.layers.{layer}.{self_attn|mlp}.{module}` */
export function linearModulePath(layer: number, module: LlamaLinearModule): ModulePath {
  return `model.layers.${layer}.${linearModuleParent(module)}.${module}`;
}

/** Linear weights are [out, in] (nn.Linear layout). */
export function linearFeatures(architecture: LlamaArchitecture, module: LlamaLinearModule): { inFeatures: number; outFeatures: number } {
  const { hiddenSize: H, intermediateSize: I, numHeads, numKvHeads, headDim: d } = architecture;
  switch (module) {
    case 'q_proj': return { inFeatures: H, outFeatures: numHeads * d };
    case 'k_proj':
    case 'v_proj': return { inFeatures: H, outFeatures: numKvHeads * d };
    case 'o_proj': return { inFeatures: numHeads * d, outFeatures: H };
    case 'gate_proj':
    case 'up_proj': return { inFeatures: H, outFeatures: I };
    case 'down_proj': return { inFeatures: I, outFeatures: H };
  }
}

export interface ParsedModulePath {
  layer: number;
  module: LlamaLinearModule;
}

/** Parses `model.layers.{L}.self_attn.q_proj` etc.; null for anything that is not a decoder linear. */
export function parseLinearModulePath(path: ModulePath): ParsedModulePath | null {
  const match = /^model\.layers\.(0|[1-9]\d*)\.(self_attn|mlp)\.([a-z_]+)$/.exec(path);
  if (!match) return null;
  const module = match[3] as LlamaLinearModule;
  if (!LLAMA_LINEAR_MODULES.includes(module) || linearModuleParent(module) !== match[2]) return null;
  return { layer: Number(match[1]), module };
}

/** Every tensor name a LlamaForCausalLM checkpoint must hold, with its shape. */
export function expectedLlamaWeights(architecture: LlamaArchitecture): Map<string, number[]> {
  const { hiddenSize: H, vocabSize: V } = architecture;
  const weights = new Map<string, number[]>();
  weights.set('model.embed_tokens.weight', [V, H]);
  for (let layer = 0; layer < architecture.numLayers; layer++) {
    weights.set(`model.layers.${layer}.input_layernorm.weight`, [H]);
    weights.set(`model.layers.${layer}.post_attention_layernorm.weight`, [H]);
    for (const module of LLAMA_LINEAR_MODULES) {
      const { inFeatures, outFeatures } = linearFeatures(architecture, module);
      const path = linearModulePath(layer, module);
      weights.set(`${path}.weight`, [outFeatures, inFeatures]);
      const hasBias = linearModuleParent(module) === 'mlp' ? architecture.mlpBias : architecture.attentionBias;
      if (hasBias) weights.set(`${path}.bias`, [outFeatures]);
    }
  }
  weights.set('model.norm.weight', [H]);
  if (!architecture.tieWordEmbeddings) weights.set('lm_head.weight', [V, H]);
  return weights;
}
