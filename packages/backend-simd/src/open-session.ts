// A simd session from a pack's bytes — pack.json's manifest (already checked), model.onnx and its
// weight files — however they were obtained: read from a directory in Node (simd-backend.ts) or
// downloaded in a browser (`@lora-tle/backend-simd/web`, e.g. with backend-web's downloadPack). No
// node: imports. Not the step (simd-session.ts).

import { listExternalData, REBUILD_PACK } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { BackendSession, PackManifest, ProgressListener } from '@lora-tle/spec';
import { placeWeights } from './pack-weights.js';
import { SimdSession } from './simd-session.js';
import { WasmHeap } from './wasm-heap.js';

/** A mixing-graph pack as bytes: `externalData[i].path` is a `location` model.onnx names. */
export interface PackFiles {
  manifest: PackManifest;
  model: Uint8Array;
  externalData: readonly { path: string; data: Uint8Array }[];
}

export interface OpenSimdOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export async function openSimdSession(files: PackFiles, options: OpenSimdOptions = {}): Promise<BackendSession> {
  let references;
  try {
    references = listExternalData(files.model);
  } catch (cause) {
    throw new LoraTleError('E_PACK_INVALID', `model pack: ${files.manifest.files.model} is not a readable ONNX model (${(cause as Error).message}); ${REBUILD_PACK}`, { cause });
  }
  const data = new Map(files.externalData.map((file) => [file.path, file.data]));
  const readFile = (location: string): Uint8Array => {
    const bytes = data.get(location);
    if (!bytes) throw new LoraTleError('E_PACK_EXTERNAL_DATA', `model pack: weight file ${location} is missing; ${REBUILD_PACK}`);
    return bytes;
  };
  options.onProgress?.({ phase: 'weights', done: 0, total: 1 });
  const heap = await WasmHeap.create();
  const weights = placeWeights(heap, files.manifest, references, readFile);
  options.onProgress?.({ phase: 'weights', done: 1, total: 1 });
  if (options.signal?.aborted) throw new LoraTleError('E_ABORTED', 'loading was cancelled');
  return new SimdSession(files.manifest, heap, weights);
}
