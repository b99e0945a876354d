// createSimdBackend: the spec Backend on the kernels in kernels.wat. doLoad checks the pack
// directory as every backend does (readPack from @lora-tle/backend-core/node), then copies its
// weights into a fresh WebAssembly memory. No runtime dependency; Node only for now (it reads the
// pack from disk). Not the step (simd-session.ts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listExternalData, readPack } from '@lora-tle/backend-core/node';
import { LoraTleError } from '@lora-tle/spec';
import type { Backend, BackendLoadOptions, BackendSession } from '@lora-tle/spec';
import { placeWeights } from './pack-weights.js';
import { SIMD_BACKEND_ID } from './simd-kv-cache.js';
import { SimdSession } from './simd-session.js';
import { WasmHeap } from './wasm-heap.js';

export function createSimdBackend(): Backend {
  return {
    id: SIMD_BACKEND_ID,
    async doLoad(location: string, options: BackendLoadOptions = {}): Promise<BackendSession> {
      if (options.graph === 'naive') {
        throw new LoraTleError('E_INVALID_ARGUMENT', "the simd backend runs the mixing graph only; load the naive graph (the paper's loop) with the node backend");
      }
      options.signal?.throwIfAborted();
      const { manifest, modelPath } = readPack(location);
      const references = listExternalData(readFileSync(modelPath));
      const heap = await WasmHeap.create();
      options.onProgress?.({ phase: 'weights', done: 0, total: 1 });
      const weights = placeWeights(heap, manifest, references, (file) => readFileSync(join(location, file)));
      options.onProgress?.({ phase: 'weights', done: 1, total: 1 });
      options.signal?.throwIfAborted();
      return new SimdSession(manifest, heap, weights);
    },
  };
}
