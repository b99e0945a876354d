// Writes a model pack directory from in-memory sources: model.onnx, base.weights,
// adapters.weights, pack.json, the tokenizer files when given, and with `withNaive` naive.onnx
// (the naive graph, on the same base.weights). The pack is written into a
// temporary directory next to the destination and renamed into place when complete, so a failure
// leaves nothing half-written. Not the file loading (build-pack.ts) and not validation on load.

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LoraTleError, PACK_FORMAT_VERSION } from '@lora-tle/spec';
import type { Combination, LlamaLinearModule, ModulePath, PackAdapterInfo, PackManifest, PackNaiveGraph, ProgressListener } from '@lora-tle/spec';
import { buildDecoderGraph, OPSET } from './decoder-graph.js';
import { ExternalDataWriter } from './external-data.js';
import { GRAPH_IO } from './graph-io.js';
import { type AdapterSource, assertSupportedArchitecture, type LlamaWeightSource, parseModulePath } from './llama-source.js';

export const PACK_FILES = { model: 'model.onnx', naiveModel: 'naive.onnx', baseWeights: 'base.weights', adapterWeights: 'adapters.weights', manifest: 'pack.json' } as const;
const CREATED_BY = '@lora-tle/graph 0.1.0';

export interface WritePackOptions {
  source: LlamaWeightSource;
  adapters: readonly AdapterSource[]; // pack order = mixing input order
  destination: string;
  combination?: Combination; // default 'cat'
  /** `cat` only: most zeros a block-diagonal B of fused modules may add (default BLOCK_DIAGONAL_B_MAX_ZEROS; 0 = one B per module). */
  fusedBMaxZeros?: number;
  overwrite?: boolean;
  /** Add the `last_hidden_state` output (for the `hidden` embedder). Default true. */
  withHidden?: boolean;
  /**
   * Add the `appended_key_values` output, so CPU and wasm backends keep the KV cache in their own arrays.
   * Default true; a pack only ever run on WebGPU can leave it out (a WebGPU session runs every output).
   */
  withAppended?: boolean;
  /**
   * Also write the naive graph (naive.onnx, pack.json `naive`): one adapter with its factors as
   * inputs, for the paper's loop at the cost of the paper's forward. Default false; needs adapters
   * of equal rank per module (the paper's merge keeps the rank).
   */
  withNaive?: boolean;
  /** tokenizer.json / tokenizer_config.json to copy into the pack. */
  tokenizerFiles?: { tokenizer?: string | null; tokenizerConfig?: string | null };
  sourceHashes?: Record<string, string>;
  onProgress?: ProgressListener;
}

/** Checks adapter names and that every adapter module exists in the base model. */
function validateAdapters(source: LlamaWeightSource, adapters: readonly AdapterSource[]): void {
  const names = new Set<string>();
  for (const adapter of adapters) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(adapter.name) || names.has(adapter.name)) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `adapter name "${adapter.name}" is empty, duplicated or has characters other than letters, digits, . _ -`);
    }
    names.add(adapter.name);
    for (const module of adapter.modules.keys()) {
      if (parseModulePath(source.architecture, module) === null) {
        throw new LoraTleError(
          'E_ADAPTER_MODULE',
          `adapter "${adapter.name}" targets ${module}, which this ${source.architecture.numLayers}-layer Llama model does not have (only q/k/v/o/gate/up/down projections of existing layers can be adapted)`,
          { details: { adapter: adapter.name, module } },
        );
      }
    }
  }
}

function adapterInfo(source: LlamaWeightSource, adapter: AdapterSource): PackAdapterInfo {
  const kinds = new Set<LlamaLinearModule>();
  const rankCounts = new Map<number, number>();
  for (const [module, weights] of adapter.modules) {
    kinds.add(parseModulePath(source.architecture, module)!.kind);
    rankCounts.set(weights.rank, (rankCounts.get(weights.rank) ?? 0) + 1);
  }
  const rank = [...rankCounts.entries()].sort((left, right) => right[1] - left[1] || right[0] - left[0])[0]?.[0] ?? 0;
  const info: PackAdapterInfo = { name: adapter.name, rank, targetModules: [...kinds], sourceHash: adapter.sourceHash, baseModelNameOrPath: adapter.baseModelNameOrPath };
  // every targeted kind on every layer at `rank`, or else each module's rank spelt out
  const regular = adapter.modules.size === kinds.size * source.architecture.numLayers && [...adapter.modules.values()].every((weights) => weights.rank === rank);
  if (!regular) info.moduleRanks = Object.fromEntries([...adapter.modules].map(([module, weights]) => [module, weights.rank]));
  return info;
}

/** The naive graph's one adapter: every module any adapter targets, at its rank (equal across adapters). */
function naiveSlot(adapters: readonly AdapterSource[]): Map<ModulePath, number> {
  if (adapters.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', 'a naive graph merges adapters: give at least one adapter, or leave out the naive graph');
  const slot = new Map<ModulePath, number>();
  for (const adapter of adapters) {
    for (const [module, weights] of adapter.modules) {
      const rank = slot.get(module);
      if (rank !== undefined && rank !== weights.rank) {
        throw new LoraTleError(
          'E_RANK_MISMATCH',
          `the naive graph merges the adapters into one of the same rank (PEFT 0.4 linear), but ${module} has ranks ${rank} and ${weights.rank}; build the pack without the naive graph`,
          { details: { module, ranks: [rank, weights.rank] } },
        );
      }
      slot.set(module, weights.rank);
    }
  }
  return slot;
}

export async function writeModelPack(options: WritePackOptions): Promise<PackManifest> {
  const { source, adapters, destination } = options;
  const combination = options.combination ?? 'cat';
  if (!['cat', 'linear', 'linear-peft0.4'].includes(combination)) {
    throw new LoraTleError('E_COMBINATION', `combination "${combination}" cannot be mixed at run time; use cat, linear or linear-peft0.4`);
  }
  assertSupportedArchitecture(source.architecture);
  validateAdapters(source, adapters);
  const slot = options.withNaive ? naiveSlot(adapters) : null;
  if (existsSync(destination) && !options.overwrite) {
    throw new LoraTleError('E_OUTPUT_EXISTS', `${destination} already exists; choose another output directory or pass overwrite`);
  }

  const parent = dirname(destination);
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${basename(destination)}.partial-${process.pid}-${Date.now()}`);
  mkdirSync(staging);
  const baseWriter = new ExternalDataWriter(join(staging, PACK_FILES.baseWeights), PACK_FILES.baseWeights);
  const adapterWriter = adapters.length > 0 ? new ExternalDataWriter(join(staging, PACK_FILES.adapterWeights), PACK_FILES.adapterWeights) : null;
  try {
    const withHidden = options.withHidden ?? true;
    const withAppended = options.withAppended ?? true;
    const graphOptions = { source, adapters, combination, baseWriter, adapterWriter, withHidden, withAppended, ...(options.fusedBMaxZeros === undefined ? {} : { fusedBMaxZeros: options.fusedBMaxZeros }) };
    const { model } = await buildDecoderGraph(options.onProgress ? { ...graphOptions, onProgress: options.onProgress } : graphOptions);
    let naive: PackNaiveGraph | null = null;
    if (slot !== null) {
      // the base initializers have the same names: base.weights gets each once (ExternalDataWriter.add)
      const naiveOptions = { ...graphOptions, adapters: [], combination: 'cat' as const, adapterWriter: null, withAppended: false, withHidden: false, factorSlot: slot };
      const graph = await buildDecoderGraph(options.onProgress ? { ...naiveOptions, onProgress: options.onProgress } : naiveOptions); // phase 'naive graph'
      writeFileSync(join(staging, PACK_FILES.naiveModel), graph.model);
      naive = { model: PACK_FILES.naiveModel, modelSha256: createHash('sha256').update(graph.model).digest('hex'), factorInputs: graph.factorInputs };
    }
    baseWriter.close();
    adapterWriter?.close();
    writeFileSync(join(staging, PACK_FILES.model), model);

    const copyIfGiven = (path: string | null | undefined, name: string): string | null => {
      if (!path || !existsSync(path)) return null;
      copyFileSync(path, join(staging, name));
      return name;
    };
    const manifest: PackManifest = {
      formatVersion: PACK_FORMAT_VERSION,
      createdBy: CREATED_BY,
      // the graph's layout and weight placement: pack.json changes whenever model.onnx does (caches key on it)
      modelSha256: createHash('sha256').update(model).digest('hex'),
      architecture: source.architecture,
      combination,
      adapters: adapters.map((adapter) => adapterInfo(source, adapter)),
      dtype: 'float32',
      opset: { ...OPSET },
      io: {
        ...GRAPH_IO,
        ...(withHidden ? {} : { hidden: null, hiddenPerPosition: false }),
        ...(withAppended ? {} : { appended: null }),
      },
      files: {
        model: PACK_FILES.model,
        baseWeights: PACK_FILES.baseWeights,
        adapterWeights: adapterWriter ? PACK_FILES.adapterWeights : null,
        tokenizer: copyIfGiven(options.tokenizerFiles?.tokenizer, 'tokenizer.json'),
        tokenizerConfig: copyIfGiven(options.tokenizerFiles?.tokenizerConfig, 'tokenizer_config.json'),
      },
      sourceHashes: options.sourceHashes ?? {},
      ...(naive ? { naive } : {}),
    };
    writeFileSync(join(staging, PACK_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);

    if (existsSync(destination)) {
      const retired = join(parent, `.${basename(destination)}.old-${process.pid}-${Date.now()}`);
      renameSync(destination, retired);
      renameSync(staging, destination);
      rmSync(retired, { recursive: true, force: true });
    } else {
      renameSync(staging, destination);
    }
    return manifest;
  } catch (error) {
    baseWriter.close();
    adapterWriter?.close();
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}
