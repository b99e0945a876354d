// PEFT LoRA adapters: adapter_config.json + adapter_model.safetensors → per-module LoRA weights
// with resolved rank, alpha and scaling, after checking every key, shape and target. Optionally
// checked against a base architecture. Platform-neutral (FileSet); never reads adapter_model.bin.

import { LLAMA_LINEAR_MODULES, LoraTleError, type LlamaArchitecture, type LoraAdapterConfig, type LoraModuleWeights, type ModulePath } from '@lora-tle/spec';
import { resolveModuleRankAlpha } from '@lora-tle/mixing';
import { readJsonFile, type FileSet } from './file-set.js';
import { linearFeatures, linearModulePath, parseLinearModulePath } from './llama-weights.js';
import { parseAdapterConfig, targetsModule, type ParsedAdapterConfig } from './peft-config.js';
import { parsePeftKey } from './peft-keys.js';
import { openSafetensors, type SafetensorsReader } from './safetensors-reader.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_PICKLE_FILE = 'adapter_model.bin';

export interface PeftModuleInfo {
  module: ModulePath;
  layer: number;
  rank: number; // r for this module (rank_pattern applied)
  alpha: number;
  scaling: number; // α/r or α/√r
  inFeatures: number;
  outFeatures: number;
  keyA: string; // (r, in)
  keyB: string; // (out, r)
}

export interface PeftAdapter {
  readonly label: string;
  readonly config: LoraAdapterConfig;
  readonly parsedConfig: ParsedAdapterConfig;
  /** Modules with LoRA weights, by layer then q, k, v, o, gate, up, down. */
  readonly modules: readonly PeftModuleInfo[];
  readModule(module: ModulePath): Promise<LoraModuleWeights>;
  readModules(): Promise<LoraModuleWeights[]>;
  /** Throws E_ADAPTER_MODULE / E_ADAPTER_SHAPE unless the adapter fits `architecture`. */
  checkAgainst(architecture: LlamaArchitecture): void;
  close(): Promise<void>;
}

export interface OpenPeftAdapterOptions {
  /** Check module existence and shapes against this base model while opening. */
  base?: LlamaArchitecture;
}

function shapeError(label: string, module: string, problem: string, details: Record<string, unknown>): never {
  throw new LoraTleError('E_ADAPTER_SHAPE', `${label}: ${module}: ${problem}; the adapter does not match this base model or its config`, {
    details: { module, ...details },
  });
}

/** Groups the file's keys by module; refuses keys of unsupported features. */
function collectModules(reader: SafetensorsReader, label: string): Map<ModulePath, { keyA?: string; keyB?: string }> {
  const modules = new Map<ModulePath, { keyA?: string; keyB?: string }>();
  const adapterNames = new Set<string | null>();
  for (const key of reader.names()) {
    const parsed = parsePeftKey(key);
    switch (parsed.kind) {
      case 'embedding':
        throw new LoraTleError('E_ADAPTER_UNSUPPORTED', `${label}: embedding LoRA ("${key}") is not supported; retrain targeting only linear projections`);
      case 'dora':
        throw new LoraTleError('E_ADAPTER_DORA', `${label}: "${key}" is a DoRA magnitude vector; DoRA adapters are not supported yet`);
      case 'lora-bias':
        throw new LoraTleError('E_ADAPTER_LORA_BIAS', `${label}: "${key}" is a LoRA bias; lora_bias adapters are not supported yet`);
      case 'other':
        throw new LoraTleError('E_ADAPTER_UNSUPPORTED', `${label}: "${key}" is not a LoRA weight (modules_to_save or a base weight?); lora-tle loads LoRA A/B pairs only`);
      case 'lora': {
        adapterNames.add(parsed.adapterName);
        const entry = modules.get(parsed.module) ?? {};
        if (parsed.side === 'A') entry.keyA = key;
        else entry.keyB = key;
        modules.set(parsed.module, entry);
      }
    }
  }
  if (adapterNames.size > 1) {
    throw new LoraTleError('E_ADAPTER_UNSUPPORTED', `${label} holds several adapters (${[...adapterNames].join(', ')}); save each adapter to its own directory`);
  }
  return modules;
}

function describeModules(parsed: ParsedAdapterConfig, reader: SafetensorsReader, label: string): PeftModuleInfo[] {
  const infos: PeftModuleInfo[] = [];
  for (const [module, keys] of collectModules(reader, label)) {
    const location = parseLinearModulePath(module);
    if (location === null) {
      if (/(^|\.)(embed_tokens|lm_head)$/.test(module)) {
        throw new LoraTleError('E_ADAPTER_UNSUPPORTED', `${label}: LoRA on ${module} is not supported; retrain targeting only attention and MLP projections`);
      }
      throw new LoraTleError('E_ADAPTER_MODULE', `${label}: LoRA weights for "${module}", which is not a Llama decoder projection (model.layers.N.self_attn|mlp.*_proj)`, {
        details: { module },
      });
    }
    if (keys.keyA === undefined || keys.keyB === undefined) {
      shapeError(label, module, `has lora_${keys.keyA === undefined ? 'B' : 'A'} but no lora_${keys.keyA === undefined ? 'A' : 'B'}`, {});
    }
    if (!targetsModule(parsed, module)) {
      throw new LoraTleError(
        'E_ADAPTER_MODULE',
        `${label}: has weights for ${module}, but target_modules/layers_to_transform in adapter_config.json do not target it; the config and weights are from different adapters`,
        { details: { module } },
      );
    }
    const { rank, alpha, scaling } = resolveModuleRankAlpha(parsed.config, module);
    const infoA = reader.info(keys.keyA);
    const infoB = reader.info(keys.keyB);
    for (const info of [infoA, infoB]) {
      if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') {
        throw new LoraTleError('E_SAFETENSORS_DTYPE', `${label}: "${info.name}" is ${info.dtype}; LoRA weights must be F32, F16 or BF16`);
      }
    }
    const [rankA, inFeatures] = infoA.shape;
    const [outFeatures, rankB] = infoB.shape;
    if (infoA.shape.length !== 2 || infoB.shape.length !== 2 || rankA !== rank || rankB !== rank || inFeatures === undefined || outFeatures === undefined) {
      shapeError(label, module, `lora_A is [${infoA.shape}] and lora_B is [${infoB.shape}], expected [${rank}, in] and [out, ${rank}] (r from adapter_config.json)`, {
        shapeA: infoA.shape,
        shapeB: infoB.shape,
        rank,
      });
    }
    infos.push({ module, layer: location.layer, rank, alpha, scaling, inFeatures, outFeatures, keyA: keys.keyA, keyB: keys.keyB });
  }
  const order = (info: PeftModuleInfo) => info.layer * LLAMA_LINEAR_MODULES.length + LLAMA_LINEAR_MODULES.indexOf(parseLinearModulePath(info.module)!.module);
  return infos.sort((left, right) => order(left) - order(right));
}

/** Throws unless every module exists in `architecture` with matching in/out features and every target matches something. */
export function checkAdapterAgainstBase(adapter: Pick<PeftAdapter, 'label' | 'modules' | 'parsedConfig'>, architecture: LlamaArchitecture): void {
  const { label } = adapter;
  for (const info of adapter.modules) {
    const location = parseLinearModulePath(info.module)!;
    if (location.layer >= architecture.numLayers) {
      throw new LoraTleError('E_ADAPTER_MODULE', `${label}: ${info.module} does not exist: the base model has ${architecture.numLayers} layers`, {
        details: { module: info.module },
      });
    }
    const expected = linearFeatures(architecture, location.module);
    if (expected.inFeatures !== info.inFeatures || expected.outFeatures !== info.outFeatures) {
      shapeError(
        label,
        info.module,
        `lora_A is [${info.rank}, ${info.inFeatures}] and lora_B is [${info.outFeatures}, ${info.rank}], but the base model needs [${info.rank}, ${expected.inFeatures}] and [${expected.outFeatures}, ${info.rank}]`,
        { expectedIn: expected.inFeatures, expectedOut: expected.outFeatures, inFeatures: info.inFeatures, outFeatures: info.outFeatures },
      );
    }
  }
  const allModules: ModulePath[] = [];
  for (let layer = 0; layer < architecture.numLayers; layer++) for (const module of LLAMA_LINEAR_MODULES) allModules.push(linearModulePath(layer, module));
  const targets = adapter.parsedConfig.config.targetModules;
  for (const target of typeof targets === 'string' ? [targets] : targets) {
    const probe: ParsedAdapterConfig = { config: { ...adapter.parsedConfig.config, targetModules: typeof targets === 'string' ? targets : [target], layersToTransform: null }, excludeModules: null };
    if (!allModules.some((module) => targetsModule(probe, module))) {
      throw new LoraTleError('E_ADAPTER_MODULE', `${label}: target_modules entry ${JSON.stringify(target)} matches no module of the base model (Llama projections: ${LLAMA_LINEAR_MODULES.join(', ')})`, {
        details: { target },
      });
    }
  }
}

/** Opens and validates a PEFT LoRA adapter directory. */
export async function openPeftAdapter(files: FileSet, options: OpenPeftAdapterOptions = {}): Promise<PeftAdapter> {
  if (!(await files.exists(ADAPTER_WEIGHTS_FILE))) {
    if (await files.exists(ADAPTER_PICKLE_FILE)) {
      throw new LoraTleError(
        'E_ADAPTER_PICKLE',
        `${files.label} stores the adapter as a pickle (${ADAPTER_PICKLE_FILE}); lora-tle never unpickles. Convert it once in Python: PeftModel.from_pretrained(...).save_pretrained(dir, safe_serialization=True)`,
      );
    }
    throw new LoraTleError('E_NOT_FOUND', `${files.label} has no ${ADAPTER_WEIGHTS_FILE}; point at a PEFT adapter directory`);
  }
  if (!(await files.exists(ADAPTER_CONFIG_FILE))) {
    throw new LoraTleError('E_NOT_FOUND', `${files.label} has no ${ADAPTER_CONFIG_FILE}; copy it next to ${ADAPTER_WEIGHTS_FILE}`);
  }
  const label = files.label;
  const parsedConfig = parseAdapterConfig(await readJsonFile(files, ADAPTER_CONFIG_FILE, 'E_ADAPTER_CONFIG'), `${label}/${ADAPTER_CONFIG_FILE}`);
  const source = await files.openBytes(ADAPTER_WEIGHTS_FILE);
  let reader: SafetensorsReader | null = null;
  try {
    reader = await openSafetensors(source, `${label}/${ADAPTER_WEIGHTS_FILE}`);
    const modules = describeModules(parsedConfig, reader, label);
    if (modules.length === 0) throw new LoraTleError('E_ADAPTER_MODULE', `${label}/${ADAPTER_WEIGHTS_FILE} holds no LoRA weights`);
    const openReader = reader;
    const byModule = new Map(modules.map((info) => [info.module, info]));
    const adapter: PeftAdapter = {
      label,
      config: parsedConfig.config,
      parsedConfig,
      modules,
      async readModule(module) {
        const info = byModule.get(module);
        if (!info) throw new LoraTleError('E_ADAPTER_MODULE', `${label} has no LoRA weights for ${module}`, { details: { module } });
        const { keyA, keyB, layer: _layer, ...rest } = info;
        return { ...rest, a: await openReader.readTensor(keyA), b: await openReader.readTensor(keyB) };
      },
      async readModules() {
        const weights: LoraModuleWeights[] = [];
        for (const info of modules) weights.push(await adapter.readModule(info.module));
        return weights;
      },
      checkAgainst: (architecture) => checkAdapterAgainstBase(adapter, architecture),
      close: () => openReader.close(),
    };
    if (options.base) adapter.checkAgainst(options.base);
    return adapter;
  } catch (error) {
    await (reader ?? source).close();
    throw error;
  }
}
