// Preparing a PEFT adapter for writing: checks that the modules agree with the config (targets,
// rank and alpha as PEFT would resolve them, tensor sizes) and lays out config JSON and tensors.
// Platform-neutral; the directory write is node/peft-dir.ts.

import { LoraTleError, type LoraAdapterConfig, type LoraModuleWeights } from '@lora-tle/spec';
import { loraScaling, resolveModuleRankAlpha } from '@lora-tle/mixing';
import { parseLinearModulePath } from './llama-weights.js';
import { adapterConfigToJson, targetsModule } from './peft-config.js';
import { peftKey } from './peft-keys.js';
import type { TensorToWrite } from './safetensors-encode.js';
import type { EncodableDtype } from './tensor-decode.js';

export interface PeftAdapterToWrite {
  config: LoraAdapterConfig;
  modules: readonly LoraModuleWeights[];
  /** Storage dtype of the LoRA tensors (default F32). */
  dtype?: EncodableDtype;
}

export interface EncodedPeftAdapter {
  configJson: string;
  tensors: TensorToWrite[];
}

export function encodePeftAdapter({ config, modules, dtype = 'F32' }: PeftAdapterToWrite): EncodedPeftAdapter {
  if (modules.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', 'an adapter needs at least one module');
  const parsed = { config, excludeModules: null };
  const tensors: TensorToWrite[] = [];
  const seen = new Set<string>();
  for (const weights of modules) {
    const { module } = weights;
    if (parseLinearModulePath(module) === null) {
      throw new LoraTleError('E_ADAPTER_MODULE', `${module} is not a Llama decoder projection (model.layers.N.self_attn|mlp.*_proj)`);
    }
    if (seen.has(module)) throw new LoraTleError('E_INVALID_ARGUMENT', `module ${module} is given twice`);
    seen.add(module);
    if (!targetsModule(parsed, module)) {
      throw new LoraTleError('E_ADAPTER_CONFIG', `${module} is not targeted by the config's target_modules/layers_to_transform; add it so PEFT loads its weights`);
    }
    const resolved = resolveModuleRankAlpha(config, module);
    const scaling = loraScaling({ alpha: weights.alpha, rank: weights.rank, useRslora: config.useRslora });
    if (resolved.rank !== weights.rank || resolved.alpha !== weights.alpha || Math.abs(scaling - weights.scaling) > 1e-6 * Math.abs(scaling)) {
      throw new LoraTleError(
        'E_ADAPTER_CONFIG',
        `${module} has rank ${weights.rank}, alpha ${weights.alpha}, scaling ${weights.scaling}, but the config resolves rank ${resolved.rank}, alpha ${resolved.alpha}, scaling ${resolved.scaling}; set r/lora_alpha or rank_pattern/alpha_pattern to match`,
      );
    }
    const { rank: r, inFeatures, outFeatures } = weights;
    if (weights.a.length !== r * inFeatures || weights.b.length !== outFeatures * r) {
      throw new LoraTleError('E_ADAPTER_SHAPE', `${module}: A has ${weights.a.length} values and B ${weights.b.length}, expected ${r}×${inFeatures} and ${outFeatures}×${r}`);
    }
    tensors.push({ name: peftKey(module, 'A'), shape: [r, inFeatures], data: weights.a, dtype }); // (r, in)
    tensors.push({ name: peftKey(module, 'B'), shape: [outFeatures, r], data: weights.b, dtype }); // (out, r)
  }
  return { configJson: `${JSON.stringify(adapterConfigToJson(config), null, 2)}\n`, tensors };
}

export interface ConfigForModulesOptions {
  baseModelNameOrPath?: string | null;
  useRslora?: boolean;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function mostCommon(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((left, right) => right[1] - left[1] || left[0] - right[0])[0]![0];
}

/**
 * An adapter config that PEFT resolves to exactly these modules' ranks and alphas (for adapters
 * lora-tle makes, e.g. merges: alpha = r gives scaling 1). r / lora_alpha take the most common
 * values; each other module gets an escaped full-path key in rank_pattern / alpha_pattern.
 */
export function peftConfigForModules(modules: readonly LoraModuleWeights[], options: ConfigForModulesOptions = {}): LoraAdapterConfig {
  if (modules.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', 'an adapter needs at least one module');
  const r = mostCommon(modules.map((weights) => weights.rank));
  const loraAlpha = mostCommon(modules.map((weights) => weights.alpha));
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  const kinds = new Set<string>();
  for (const weights of modules) {
    const location = parseLinearModulePath(weights.module);
    if (location === null) throw new LoraTleError('E_ADAPTER_MODULE', `${weights.module} is not a Llama decoder projection (model.layers.N.self_attn|mlp.*_proj)`);
    kinds.add(location.module);
    if (weights.rank !== r) rankPattern[escapeRegex(weights.module)] = weights.rank;
    if (weights.alpha !== loraAlpha) alphaPattern[escapeRegex(weights.module)] = weights.alpha;
  }
  return {
    r,
    loraAlpha,
    useRslora: options.useRslora ?? false,
    rankPattern,
    alphaPattern,
    targetModules: [...kinds],
    layersToTransform: null,
    baseModelNameOrPath: options.baseModelNameOrPath ?? null,
    fanInFanOut: false,
    peftType: 'LORA',
  };
}
