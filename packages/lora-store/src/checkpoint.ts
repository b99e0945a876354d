// Hugging Face Llama checkpoints: config.json plus model.safetensors or a sharded set
// (model.safetensors.index.json + shards). Opens every file's header, validates the index and
// the weight names/shapes, and reads single tensors on demand. Platform-neutral (FileSet).

import { LoraTleError, type LlamaArchitecture } from '@lora-tle/spec';
import { readJsonFile, assertRelativeName, type FileSet } from './file-set.js';
import { parseLlamaConfig } from './llama-config.js';
import { expectedLlamaWeights } from './llama-weights.js';
import { openSafetensors, type SafetensorsReader } from './safetensors-reader.js';
import type { TensorInfo } from './safetensors-header.js';

export const SINGLE_WEIGHTS_FILE = 'model.safetensors';
export const SHARD_INDEX_FILE = 'model.safetensors.index.json';

export interface CheckpointTensorInfo extends TensorInfo {
  file: string; // the safetensors file holding it
}

export interface Checkpoint {
  readonly label: string;
  readonly architecture: LlamaArchitecture;
  /** config.json as parsed (for fields lora-tle does not model). */
  readonly config: Record<string, unknown>;
  /** The safetensors files, in index order. */
  readonly files: readonly string[];
  names(): string[];
  has(name: string): boolean;
  info(name: string): CheckpointTensorInfo;
  readTensor(name: string): Promise<Float32Array>;
  /** Throws E_CHECKPOINT_WEIGHTS unless every LlamaForCausalLM weight is present with its shape. */
  checkLlamaWeights(): void;
  close(): Promise<void>;
}

export interface OpenCheckpointOptions {
  /** Run checkLlamaWeights() while opening (default true). */
  checkWeights?: boolean;
}

async function readShardIndex(files: FileSet): Promise<Map<string, string>> {
  const index = await readJsonFile(files, SHARD_INDEX_FILE, 'E_CHECKPOINT_SHARDS');
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new LoraTleError('E_CHECKPOINT_SHARDS', `${files.label}/${SHARD_INDEX_FILE} has no "weight_map" object; regenerate it with save_pretrained`);
  }
  const map = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string') {
      throw new LoraTleError('E_CHECKPOINT_SHARDS', `${SHARD_INDEX_FILE}: weight_map["${tensor}"] is not a file name`);
    }
    try {
      assertRelativeName(shard, files.label);
    } catch (cause) {
      throw new LoraTleError('E_CHECKPOINT_SHARDS', `${SHARD_INDEX_FILE}: shard ${JSON.stringify(shard)} is outside the checkpoint directory`, { cause });
    }
    map.set(tensor, shard);
  }
  return map;
}

async function openAll(files: FileSet, names: readonly string[]): Promise<Map<string, SafetensorsReader>> {
  const readers = new Map<string, SafetensorsReader>();
  try {
    for (const name of names) {
      const source = await files.openBytes(name);
      try {
        readers.set(name, await openSafetensors(source, `${files.label}/${name}`));
      } catch (error) {
        await source.close();
        throw error;
      }
    }
  } catch (error) {
    await Promise.all([...readers.values()].map((reader) => reader.close()));
    throw error;
  }
  return readers;
}

/** Opens a checkpoint directory; close() releases the file handles. */
export async function openCheckpoint(files: FileSet, options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  if (!(await files.exists('config.json'))) {
    throw new LoraTleError('E_NOT_FOUND', `${files.label} has no config.json; point at a Hugging Face model directory`);
  }
  const config = (await readJsonFile(files, 'config.json', 'E_CONFIG_INVALID')) as Record<string, unknown>;
  const architecture = parseLlamaConfig(config, `${files.label}/config.json`);

  // tensor name → shard file
  let location: Map<string, string> | null = null;
  let shardNames: string[];
  if (await files.exists(SINGLE_WEIGHTS_FILE)) {
    shardNames = [SINGLE_WEIGHTS_FILE];
  } else if (await files.exists(SHARD_INDEX_FILE)) {
    location = await readShardIndex(files);
    shardNames = [...new Set(location.values())];
    const missing: string[] = [];
    for (const shard of shardNames) if (!(await files.exists(shard))) missing.push(shard);
    if (missing.length > 0) {
      throw new LoraTleError('E_CHECKPOINT_SHARDS', `${files.label}: ${SHARD_INDEX_FILE} lists shards that do not exist: ${missing.join(', ')}; download them again`, {
        details: { missing },
      });
    }
  } else {
    const pickle = (await files.exists('pytorch_model.bin')) || (await files.exists('pytorch_model.bin.index.json'));
    throw new LoraTleError(
      'E_NOT_FOUND',
      pickle
        ? `${files.label} has only pickle weights (pytorch_model.bin); lora-tle never unpickles: convert them to safetensors (save_pretrained(..., safe_serialization=True))`
        : `${files.label} has neither ${SINGLE_WEIGHTS_FILE} nor ${SHARD_INDEX_FILE}`,
    );
  }

  const readers = await openAll(files, shardNames);
  if (location === null) {
    location = new Map((readers.get(SINGLE_WEIGHTS_FILE) as SafetensorsReader).names().map((name) => [name, SINGLE_WEIGHTS_FILE]));
  } else {
    const absent = [...location].filter(([tensor, shard]) => !readers.get(shard)?.has(tensor));
    if (absent.length > 0) {
      await Promise.all([...readers.values()].map((reader) => reader.close()));
      const [tensor, shard] = absent[0] as [string, string];
      throw new LoraTleError(
        'E_CHECKPOINT_SHARDS',
        `${files.label}: ${absent.length} tensor(s) listed in ${SHARD_INDEX_FILE} are not in their shard, e.g. "${tensor}" in ${shard}; the index and shards are from different saves`,
        { details: { absent: absent.map(([name]) => name) } },
      );
    }
  }
  const tensorLocation = location;

  const readerOf = (name: string): SafetensorsReader => {
    const shard = tensorLocation.get(name);
    if (shard === undefined) throw new LoraTleError('E_TENSOR_MISSING', `${files.label} has no tensor named "${name}"`, { details: { tensor: name } });
    return readers.get(shard) as SafetensorsReader;
  };
  const checkpoint: Checkpoint = {
    label: files.label,
    architecture,
    config,
    files: shardNames,
    names: () => [...tensorLocation.keys()],
    has: (name) => tensorLocation.has(name),
    info: (name) => ({ ...readerOf(name).info(name), file: tensorLocation.get(name) as string }),
    readTensor: async (name) => readerOf(name).readTensor(name),
    checkLlamaWeights() {
      for (const [name, shape] of expectedLlamaWeights(architecture)) {
        if (!tensorLocation.has(name)) {
          throw new LoraTleError('E_CHECKPOINT_WEIGHTS', `${files.label}: weight "${name}" is missing; the checkpoint is incomplete or not a LlamaForCausalLM`, {
            details: { tensor: name },
          });
        }
        const info = readerOf(name).info(name);
        if (info.shape.length !== shape.length || info.shape.some((dimension, i) => dimension !== shape[i])) {
          throw new LoraTleError(
            'E_CHECKPOINT_WEIGHTS',
            `${files.label}: weight "${name}" has shape [${info.shape}] but config.json implies [${shape}]; config.json and the weights do not match`,
            { details: { tensor: name, expected: shape, actual: info.shape } },
          );
        }
        if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') {
          throw new LoraTleError('E_SAFETENSORS_DTYPE', `${files.label}: weight "${name}" is ${info.dtype}; lora-tle reads F32, F16 and BF16 checkpoints`);
        }
      }
    },
    close: async () => {
      await Promise.all([...readers.values()].map((reader) => reader.close()));
    },
  };
  if (options.checkWeights ?? true) {
    try {
      checkpoint.checkLlamaWeights();
    } catch (error) {
      await checkpoint.close();
      throw error;
    }
  }
  return checkpoint;
}
