// The `transformers` embedder: any local sentence-embedding model (e.g. all-MiniLM-L6-v2, as the
// paper used) through @huggingface/transformers `feature-extraction`, mean pooling + L2 norm.
// Strictly offline: remote models are switched off and the model directory must hold config.json,
// tokenizer files and onnx/model.onnx (the transformers.js layout). The library is an optional peer
// dependency, imported on first use, so the router works without it.
// Note: transformers.js keeps its `env` (allowRemoteModels, localModelPath) as library-wide state;
// creating this embedder sets both.

import { LoraTleError } from '@lora-tle/spec';
import type { Embedder } from '@lora-tle/spec';
import { fnv1a } from './string-hash.js';
import { normalizeL2InPlace } from './vector.js';

/** The slice of @huggingface/transformers this embedder uses. */
export interface TransformersLibrary {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };
  pipeline: (task: 'feature-extraction', model: string, options?: Record<string, unknown>) => Promise<FeatureExtractor>;
}
type FeatureExtractor = ((texts: string[], options: { pooling: string; normalize: boolean }) => Promise<{ dims: number[]; data: ArrayLike<number> }>) & {
  dispose?: () => Promise<unknown>;
};

export interface TransformersEmbedderOptions {
  /** Local model directory (config.json, tokenizer.json, onnx/model.onnx). */
  modelDir: string;
  /** Pooling over tokens (default 'mean', as sentence-transformers does for MiniLM). */
  pooling?: 'mean' | 'cls';
  /** ONNX weight variant: 'fp32' → onnx/model.onnx, 'q8' → onnx/model_quantized.onnx, … (default 'fp32'). */
  dtype?: string;
  /**
   * Identifies the model weights in the embedder ref. Default: a hash of config.json and the ONNX
   * file's size (cheap). Pass a content hash to be stricter.
   */
  modelHash?: string;
  /** For tests and bundlers: how to load the library (default: dynamic import). */
  loadLibrary?: () => Promise<TransformersLibrary>;
}

export interface TransformersEmbedder extends Embedder {
  readonly id: 'transformers';
  dispose(): Promise<void>;
}

const INSTALL_HINT = 'install it with `npm install @huggingface/transformers` (an optional peer dependency of @lora-tle/router)';

export async function createTransformersEmbedder(options: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
  const { pooling = 'mean', dtype = 'fp32' } = options;
  const library = await loadTransformers(options.loadLibrary);
  const { dirname, basename, join, resolve } = await import('node:path');
  const modelDir = resolve(options.modelDir);
  const { readFile, stat } = await import('node:fs/promises');
  const modelName = basename(modelDir);
  const onnxFile = join(modelDir, 'onnx', dtype === 'fp32' ? 'model.onnx' : `model_${dtype === 'q8' ? 'quantized' : dtype}.onnx`);

  let configText: string;
  let onnxBytes: number;
  try {
    configText = await readFile(join(modelDir, 'config.json'), 'utf8');
    onnxBytes = (await stat(onnxFile)).size;
  } catch (cause) {
    throw new LoraTleError(
      'E_EMBEDDER',
      `transformers embedder: ${modelDir} is not a local transformers.js model directory (need config.json and ${onnxFile}); export the model to ONNX first (e.g. with optimum) — models are never downloaded`,
      { cause },
    );
  }
  const dimension = readHiddenSize(configText, modelDir);
  const modelHash = options.modelHash ?? `${fnv1a(configText).toString(16)}-${onnxBytes}`;

  library.env.allowRemoteModels = false; // strictly offline
  library.env.allowLocalModels = true;
  library.env.localModelPath = dirname(modelDir);
  let extractor: FeatureExtractor;
  try {
    extractor = await library.pipeline('feature-extraction', modelName, { dtype, local_files_only: true });
  } catch (cause) {
    throw new LoraTleError('E_EMBEDDER', `transformers embedder: loading ${modelDir} failed: ${(cause as Error).message ?? String(cause)}`, { cause });
  }

  return {
    id: 'transformers',
    settings: { model: modelName, modelHash, dtype, pooling, dimension },
    dimension,
    async embed(texts) {
      if (texts.length === 0) return [];
      const output = await extractor([...texts], { pooling, normalize: true }); // (B, H)
      const [rows, columns] = output.dims;
      if (rows !== texts.length || columns !== dimension) {
        throw new LoraTleError('E_EMBEDDER', `transformers embedder: model returned shape [${output.dims.join(', ')}], expected [${texts.length}, ${dimension}]`);
      }
      // Renormalise in float32 so every vector has norm 1 to float precision.
      return texts.map((_, row) => normalizeL2InPlace(Float32Array.from({ length: dimension }, (__, column) => output.data[row * dimension + column] as number)));
    },
    async dispose() {
      await extractor.dispose?.();
    },
  };
}

async function loadTransformers(loadLibrary: (() => Promise<TransformersLibrary>) | undefined): Promise<TransformersLibrary> {
  const packageName = '@huggingface/transformers'; // a variable keeps bundlers from requiring it
  try {
    return loadLibrary === undefined ? ((await import(/* @vite-ignore */ packageName)) as TransformersLibrary) : await loadLibrary();
  } catch (cause) {
    throw new LoraTleError('E_EMBEDDER', `the transformers embedder needs @huggingface/transformers, which could not be loaded; ${INSTALL_HINT}`, { cause });
  }
}

function readHiddenSize(configText: string, modelDir: string): number {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(configText) as Record<string, unknown>;
  } catch (cause) {
    throw new LoraTleError('E_EMBEDDER', `transformers embedder: ${modelDir}/config.json is not valid JSON`, { cause });
  }
  const hidden = config['hidden_size'] ?? config['d_model'] ?? config['dim'];
  if (typeof hidden !== 'number' || !Number.isInteger(hidden) || hidden < 1) {
    throw new LoraTleError('E_EMBEDDER', `transformers embedder: ${modelDir}/config.json has no hidden_size; is it a sentence-embedding model?`);
  }
  return hidden;
}
