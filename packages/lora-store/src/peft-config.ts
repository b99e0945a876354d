// adapter_config.json (PEFT LoRA) → LoraAdapterConfig, with PEFT's defaults, and the refusals for
// features lora-tle does not implement; which modules a config targets (PEFT
// check_target_module_exists); and the JSON the writer emits. Pure. Rank/alpha/scaling per module
// is @lora-tle/mixing's resolveModuleRankAlpha.

import { LLAMA_LINEAR_MODULES, LoraTleError, type LoraAdapterConfig, type ModulePath } from '@lora-tle/spec';
import { parseLinearModulePath } from './llama-weights.js';

/** PEFT's default target_modules for Llama when the config has none. */
export const PEFT_LLAMA_DEFAULT_TARGETS = ['q_proj', 'v_proj'];
const EMBEDDING_MODULES = ['embed_tokens', 'lm_head'];

/** What the adapter applies to: the spec config plus exclude_modules. */
export interface ParsedAdapterConfig {
  config: LoraAdapterConfig;
  excludeModules: string[] | string | null;
}

type Json = Record<string, unknown>;

function configError(label: string, field: string, problem: string): never {
  throw new LoraTleError('E_ADAPTER_CONFIG', `${label}: "${field}" ${problem}; fix adapter_config.json`, { details: { file: label, field } });
}

function unsupported(label: string, feature: string, advice: string): never {
  throw new LoraTleError('E_ADAPTER_UNSUPPORTED', `${label}: ${feature} is not supported by lora-tle; ${advice}`, { details: { file: label, feature } });
}

const isEmpty = (value: unknown) => value == null || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && Object.keys(value as object).length === 0);

function moduleList(value: unknown, field: string, label: string): string[] | string | null {
  if (value == null) return null;
  if (typeof value === 'string') {
    if (value === 'all-linear') return [...LLAMA_LINEAR_MODULES];
    try {
      new RegExp(value);
    } catch {
      configError(label, field, `is not a valid regular expression: ${JSON.stringify(value)}`);
    }
    return value;
  }
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  configError(label, field, `must be a list of module names or a regex string, got ${JSON.stringify(value)}`);
}

function numberMap(value: unknown, field: string, label: string, integer: boolean): Record<string, number> {
  if (value == null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) configError(label, field, 'must be an object');
  const entries = Object.entries(value as Json);
  for (const [key, entry] of entries) {
    const valid = typeof entry === 'number' && Number.isFinite(entry) && (!integer || (Number.isInteger(entry) && entry > 0));
    if (!valid) configError(label, field, `["${key}"] must be ${integer ? 'a positive integer' : 'a number'}, got ${JSON.stringify(entry)}`);
  }
  return Object.fromEntries(entries) as Record<string, number>;
}

/** Parses a PEFT LoRA adapter_config.json; refuses DoRA, LoRA bias, modules_to_save and the like. */
export function parseAdapterConfig(value: unknown, label = 'adapter_config.json'): ParsedAdapterConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LoraTleError('E_ADAPTER_CONFIG', `${label} is not a JSON object; point at a PEFT adapter directory`);
  }
  const json = value as Json;
  if (json.peft_type !== 'LORA') configError(label, 'peft_type', `is ${JSON.stringify(json.peft_type)}; only LoRA adapters (peft_type "LORA") are supported`);
  if (json.use_dora === true) {
    throw new LoraTleError('E_ADAPTER_DORA', `${label}: DoRA adapters (use_dora: true) are not supported yet; merge the DoRA adapter into the base model or retrain with plain LoRA`);
  }
  if (json.lora_bias === true) {
    throw new LoraTleError('E_ADAPTER_LORA_BIAS', `${label}: LoRA bias (lora_bias: true) is not supported yet; retrain with lora_bias=False`);
  }
  if (!isEmpty(json.modules_to_save)) unsupported(label, `modules_to_save (${JSON.stringify(json.modules_to_save)})`, 'retrain without modules_to_save or merge those modules into the base model');
  if (json.fan_in_fan_out === true) unsupported(label, 'fan_in_fan_out: true', 'Llama linear layers are [out, in]; retrain with fan_in_fan_out=False');
  if (json.bias != null && json.bias !== 'none') unsupported(label, `bias "${String(json.bias)}"`, 'retrain with bias="none"');
  for (const field of ['layer_replication', 'trainable_token_indices', 'target_parameters', 'alora_invocation_tokens']) {
    if (!isEmpty(json[field])) unsupported(label, field, `retrain without ${field}`);
  }
  const layersPattern = json.layers_pattern;
  if (!(layersPattern == null || layersPattern === 'layers' || (Array.isArray(layersPattern) && layersPattern.every((p) => p === 'layers')))) {
    unsupported(label, `layers_pattern ${JSON.stringify(layersPattern)}`, 'Llama layers are named "layers"');
  }

  const r = json.r ?? 8;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) configError(label, 'r', `must be a positive integer, got ${JSON.stringify(r)}`);
  const loraAlpha = json.lora_alpha ?? 8;
  if (typeof loraAlpha !== 'number' || !Number.isFinite(loraAlpha)) configError(label, 'lora_alpha', `must be a number, got ${JSON.stringify(loraAlpha)}`);
  const useRslora = json.use_rslora ?? false;
  if (typeof useRslora !== 'boolean') configError(label, 'use_rslora', 'must be true or false');

  const targetModules = moduleList(json.target_modules, 'target_modules', label) ?? [...PEFT_LLAMA_DEFAULT_TARGETS];
  const targetNames = Array.isArray(targetModules) ? targetModules : [];
  const embedding = targetNames.find((name) => EMBEDDING_MODULES.some((module) => name === module || name.endsWith(`.${module}`)));
  if (embedding !== undefined) unsupported(label, `LoRA on "${embedding}" (embedding / output layer)`, 'retrain targeting only attention and MLP projections');

  const layers = json.layers_to_transform;
  let layersToTransform: number[] | null = null;
  if (typeof layers === 'number') layersToTransform = [layers];
  else if (Array.isArray(layers) && layers.every((layer) => Number.isInteger(layer) && layer >= 0)) layersToTransform = layers as number[];
  else if (layers != null) configError(label, 'layers_to_transform', `must be a layer index or a list of them, got ${JSON.stringify(layers)}`);

  const base = json.base_model_name_or_path;
  return {
    config: {
      r,
      loraAlpha,
      useRslora,
      rankPattern: numberMap(json.rank_pattern, 'rank_pattern', label, true),
      alphaPattern: numberMap(json.alpha_pattern, 'alpha_pattern', label, false),
      targetModules,
      layersToTransform,
      baseModelNameOrPath: typeof base === 'string' ? base : null,
      fanInFanOut: false,
      peftType: 'LORA',
    },
    excludeModules: moduleList(json.exclude_modules, 'exclude_modules', label),
  };
}

function matchesModuleList(names: string[] | string, modulePath: ModulePath): boolean {
  if (typeof names === 'string') return new RegExp(`^(?:${names})$`).test(modulePath);
  return names.some((name) => modulePath === name || modulePath.endsWith(`.${name}`));
}

/** PEFT's check_target_module_exists for a Llama decoder module path. */
export function targetsModule(parsed: ParsedAdapterConfig, modulePath: ModulePath): boolean {
  if (parsed.excludeModules !== null && matchesModuleList(parsed.excludeModules, modulePath)) return false;
  if (!matchesModuleList(parsed.config.targetModules, modulePath)) return false;
  const layers = parsed.config.layersToTransform;
  if (layers === null) return true;
  const location = parseLinearModulePath(modulePath);
  return location !== null && layers.includes(location.layer);
}

/** adapter_config.json as PEFT writes it, for an inference-only LoRA adapter. */
export function adapterConfigToJson(config: LoraAdapterConfig): Record<string, unknown> {
  return {
    alpha_pattern: config.alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: config.baseModelNameOrPath,
    bias: 'none',
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: config.layersToTransform,
    lora_alpha: config.loraAlpha,
    lora_bias: false,
    lora_dropout: 0.0,
    modules_to_save: null,
    peft_type: 'LORA',
    r: config.r,
    rank_pattern: config.rankPattern,
    revision: null,
    target_modules: config.targetModules,
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: config.useRslora,
  };
}
