// createSimdBackend: the spec Backend on the kernels in kernels.wat, for Node. doLoad checks the
// pack directory as every backend does (readPack from @lora-tle/backend-core/node), reads model.onnx
// and its weight files, and opens a session on them (open-session.ts). Not the step
// (simd-session.ts); in a browser, `@lora-tle/backend-simd/web` opens a session on downloaded bytes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPack } from '@lora-tle/backend-core/node';
import { LoraTleError } from '@lora-tle/spec';
import type { Backend, BackendLoadOptions, BackendSession } from '@lora-tle/spec';
import { openSimdSession } from './open-session.js';
import { SIMD_BACKEND_ID } from './simd-kv-cache.js';

export function createSimdBackend(): Backend {
  return {
    id: SIMD_BACKEND_ID,
    async doLoad(location: string, options: BackendLoadOptions = {}): Promise<BackendSession> {
      if (options.graph === 'naive') {
        throw new LoraTleError('E_INVALID_ARGUMENT', "the simd backend runs the mixing graph only; load the naive graph (the paper's loop) with the node backend");
      }
      if (options.signal?.aborted) throw new LoraTleError('E_ABORTED', 'loading was cancelled');
      const { manifest, modelPath } = readPack(location);
      const model = readFileSync(modelPath);
      // the weight files pack.json names (readPack checked every reference of model.onnx against them)
      const weightFiles = [manifest.files.baseWeights, manifest.files.adapterWeights].filter((file): file is string => file !== null);
      const externalData = weightFiles.map((path) => ({ path, data: readFileSync(join(location, path)) }));
      return openSimdSession({ manifest, model, externalData }, { ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    },
  };
}
