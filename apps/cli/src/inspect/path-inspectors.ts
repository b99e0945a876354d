// What `lora-tle inspect` can look at, tried in order: a model pack directory (pack.json), a PEFT
// adapter directory, a Hugging Face checkpoint directory, a single safetensors file. Each
// inspector recognises its kind cheaply, then validates through lora-store; a validation failure
// is thrown as the LoraTleError it is. Adding a kind: append an inspector to PATH_INSPECTORS.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LoraTleError, type PackManifest } from '@lora-tle/spec';
import { ADAPTER_CONFIG_FILE, ADAPTER_PICKLE_FILE, ADAPTER_WEIGHTS_FILE, type PeftAdapter } from '@lora-tle/lora-store';
import { loadCheckpoint, loadPeftAdapter, openSafetensorsFile } from '@lora-tle/lora-store/node';
import { combineSummaries, summarizeTensors, type CompatibilityVerdict, type InspectReport } from './inspect-report.js';

export interface InspectOptions {
  /** A checkpoint directory to check an adapter against. */
  base?: string;
}

export interface PathInspector {
  kind: InspectReport['kind'];
  /** Cheap recognition by file names only; the first inspector that matches inspects. */
  matches(path: string, isDirectory: boolean): Promise<boolean>;
  inspect(path: string, options: InspectOptions): Promise<InspectReport>;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

// ---- model pack (validated by backend-node's readPack, imported only for packs) ----

/** How the CPU and wasm backends keep this pack's KV cache between steps (docs/model-pack.md). */
function kvCacheFact(io: PackManifest['io']): string {
  if (typeof io.appended === 'string' && io.appended.length > 0) return `in lora-tle's own arrays on CPU and wasm (${io.appended}: each step copies out only its new rows)`;
  const copying = 'present.* copied out of onnxruntime every step on CPU and wasm';
  if ('appendedKey' in io) return `${copying}: built with one appended.* output per layer, which this version does not read; rebuild with \`lora-tle build\``;
  if (io.appended === null) return `${copying} (built with --no-appended, for WebGPU)`;
  return `${copying}: built before the appended rows' output; rebuild with \`lora-tle build\``;
}

const modelPackInspector: PathInspector = {
  kind: 'model-pack',
  matches: async (path, isDirectory) => isDirectory && (await isFile(join(path, 'pack.json'))),
  async inspect(path) {
    const { readPack, listExternalData } = await import('@lora-tle/backend-node');
    const { manifest, modelPath } = readPack(path); // pack.json shape, version, files, external-data ranges
    if (manifest.naive) readPack(path, 'naive'); // the same checks for naive.onnx
    const references = listExternalData(await readFile(modelPath));
    const weightFiles = [...new Set(references.map((reference) => reference.location))];
    const a = manifest.architecture;
    return {
      path,
      kind: 'model-pack',
      description: `${manifest.adapters.length} adapter(s), combination ${manifest.combination}`,
      facts: {
        adapters: manifest.adapters.map((adapter) => `${adapter.name} (r=${adapter.rank}; ${adapter.targetModules.join(', ')})`).join(', ') || null,
        combination: manifest.combination,
        dtype: manifest.dtype,
        architecture: `${a.modelType}, ${a.numLayers} layers, hidden ${a.hiddenSize}, vocab ${a.vocabSize}`,
        opset: `ai.onnx ${manifest.opset['ai.onnx']}, com.microsoft ${manifest.opset['com.microsoft']}`,
        'external tensors': `${references.length} in ${weightFiles.join(', ') || '—'}`,
        tokenizer: manifest.files.tokenizer,
        'kv cache': kvCacheFact(manifest.io),
        'naive graph': manifest.naive
          ? `${manifest.naive.model}: one adapter on ${new Set(manifest.naive.factorInputs.flatMap((input) => input.modules.map((module) => module.module))).size} modules, its factors fed as ${manifest.naive.factorInputs.length} inputs (bench's naive mode)`
          : null,
        'created by': manifest.createdBy,
      },
      config: manifest,
      tensors: null,
      verdict: {
        valid: true,
        checks: ['pack.json shape and format version', 'every file it names exists', 'every external-data range lies inside its weight file', ...(manifest.naive ? ["the same for the naive graph's file"] : [])],
        compatibility: null,
      },
    };
  },
};

// ---- PEFT adapter ----

async function compatibilityWith(adapter: PeftAdapter, base: string): Promise<CompatibilityVerdict> {
  const checkpoint = await loadCheckpoint(base, { checkWeights: false });
  try {
    adapter.checkAgainst(checkpoint.architecture);
    return { base, compatible: true, problem: null };
  } catch (error) {
    if (error instanceof LoraTleError) return { base, compatible: false, problem: { code: error.code, message: error.message } };
    throw error;
  } finally {
    await checkpoint.close();
  }
}

function describeRanks(adapter: PeftAdapter): string {
  const ranks = [...new Set(adapter.modules.map((info) => info.rank))].sort((left, right) => left - right);
  return ranks.length === 1 ? String(ranks[0]) : `${ranks.join(', ')} (rank_pattern)`;
}

const peftAdapterInspector: PathInspector = {
  kind: 'peft-adapter',
  matches: async (path, isDirectory) =>
    isDirectory && ((await isFile(join(path, ADAPTER_CONFIG_FILE))) || (await isFile(join(path, ADAPTER_WEIGHTS_FILE))) || (await isFile(join(path, ADAPTER_PICKLE_FILE)))),
  async inspect(path, options) {
    const adapter = await loadPeftAdapter(path);
    try {
      const weights = await openSafetensorsFile(join(path, ADAPTER_WEIGHTS_FILE));
      const tensors = summarizeTensors(weights.header.tensors);
      await weights.close();
      const { config } = adapter;
      const layers = [...new Set(adapter.modules.map((info) => info.layer))];
      const kinds = [...new Set(adapter.modules.map((info) => info.module.split('.').pop()))];
      const scalings = [...new Set(adapter.modules.map((info) => Number(info.scaling.toPrecision(6))))];
      return {
        path,
        kind: 'peft-adapter',
        description: `${adapter.modules.length} LoRA modules over ${layers.length} layer(s)`,
        facts: {
          'base model': config.baseModelNameOrPath,
          rank: describeRanks(adapter),
          'lora alpha': config.loraAlpha,
          scaling: `${scalings.join(', ')}${config.useRslora ? ' (rslora α/√r)' : ' (α/r)'}`,
          modules: kinds.join(', '),
          layers: layers.length === 0 ? null : `${Math.min(...layers)}–${Math.max(...layers)}`,
        },
        config: JSON.parse(await readFile(join(path, ADAPTER_CONFIG_FILE), 'utf8')),
        tensors,
        verdict: {
          valid: true,
          checks: ['safetensors header', 'every lora_A/lora_B pair present with rank from adapter_config.json', 'targets match target_modules'],
          compatibility: options.base === undefined ? null : await compatibilityWith(adapter, options.base),
        },
      };
    } finally {
      await adapter.close();
    }
  },
};

// ---- Hugging Face checkpoint ----

const checkpointInspector: PathInspector = {
  kind: 'checkpoint',
  matches: async (path, isDirectory) => isDirectory && (await isFile(join(path, 'config.json'))),
  async inspect(path) {
    const checkpoint = await loadCheckpoint(path);
    try {
      const perFile = new Map<string, Parameters<typeof summarizeTensors>[0][number][]>();
      for (const name of checkpoint.names()) {
        const info = checkpoint.info(name);
        perFile.set(info.file, [...(perFile.get(info.file) ?? []), info]);
      }
      const tensors = combineSummaries([...perFile.values()].map((infos) => summarizeTensors(infos.sort((left, right) => left.begin - right.begin))));
      const a = checkpoint.architecture;
      return {
        path,
        kind: 'checkpoint',
        description: `${a.modelType}, ${a.numLayers} layers, hidden ${a.hiddenSize}, vocab ${a.vocabSize}`,
        facts: {
          'model type': a.modelType,
          layers: a.numLayers,
          'hidden size': a.hiddenSize,
          'intermediate size': a.intermediateSize,
          heads: `${a.numHeads} query / ${a.numKvHeads} key-value, head dim ${a.headDim}`,
          vocab: a.vocabSize,
          'rope': `θ=${a.ropeTheta}, scaling ${a.ropeScaling.type}`,
          'tied embeddings': a.tieWordEmbeddings,
          files: checkpoint.files.join(', '),
        },
        config: checkpoint.config,
        tensors,
        verdict: { valid: true, checks: ['config.json is a supported Llama config', 'safetensors headers', 'every LlamaForCausalLM weight present with its shape'], compatibility: null },
      };
    } finally {
      await checkpoint.close();
    }
  },
};

// ---- single safetensors file ----

const safetensorsInspector: PathInspector = {
  kind: 'safetensors',
  matches: async (_path, isDirectory) => !isDirectory,
  async inspect(path) {
    const reader = await openSafetensorsFile(path);
    try {
      const tensors = summarizeTensors(reader.header.tensors);
      const metadata = reader.metadata;
      return {
        path,
        kind: 'safetensors',
        description: `${tensors.count} tensor(s)`,
        facts: {
          metadata: metadata === null ? null : Object.entries(metadata).map(([key, value]) => `${key}=${value}`).join(', '),
          'header bytes': reader.header.headerLength,
        },
        config: metadata,
        tensors,
        verdict: { valid: true, checks: ['header JSON, dtypes and shapes', 'offsets contiguous with no gaps or overlaps', 'data ends exactly at the file end'], compatibility: null },
      };
    } finally {
      await reader.close();
    }
  },
};

export const PATH_INSPECTORS: readonly PathInspector[] = [modelPackInspector, peftAdapterInspector, checkpointInspector, safetensorsInspector];

export async function inspectPath(path: string, options: InspectOptions = {}): Promise<InspectReport> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new LoraTleError('E_NOT_FOUND', `${path} does not exist; give a safetensors file, a PEFT adapter directory or a Hugging Face model directory`, { cause });
  }
  if (options.base !== undefined && !(await peftAdapterInspector.matches(path, isDirectory))) {
    throw new LoraTleError('E_USAGE', `--base checks an adapter against a base model, but ${path} is not a PEFT adapter directory`);
  }
  for (const inspector of PATH_INSPECTORS) {
    if (await inspector.matches(path, isDirectory)) return inspector.inspect(path, options);
  }
  throw new LoraTleError(
    'E_NOT_FOUND',
    `${path} is a directory without pack.json, adapter_config.json or config.json; give a safetensors file, a PEFT adapter directory or a Hugging Face model directory`,
  );
}
