// createNodeBackend: the spec Backend on onnxruntime-node. doLoad validates the pack directory
// (pack-manifest.ts), opens the session on the requested device through the execution-provider
// seam (execution-providers.ts: cpu, webgpu, cuda, threads, CPU fallback) and returns a
// NodeSession; with `graph: 'naive'`, of the pack's naive graph. Options may be given to the factory
// and overridden per load under `backendOptions.node`. Not the step logic (node-session.ts).

import { graphOutputNames, mergeBackendOptions } from '@lora-tle/backend-core';
import { isLoraTleError, LoraTleError } from '@lora-tle/spec';
import type { Backend, BackendLoadOptions, BackendSession } from '@lora-tle/spec';
import { createOrtSession, EXECUTION_PROVIDERS, type NodeDeviceOptions, type OrtSessionHandle } from './execution-providers.js';
import { NODE_BACKEND_ID } from './node-kv-cache.js';
import { NodeSession } from './node-session.js';
import { readPack } from '@lora-tle/backend-core/node';

/** device ('cpu' default, 'webgpu', 'cuda'), threads, interOpThreads, fallback — see execution-providers.ts. */
export type NodeBackendOptions = NodeDeviceOptions;

export function createNodeBackend(factoryOptions: NodeBackendOptions = {}): Backend {
  return {
    id: NODE_BACKEND_ID,
    async doLoad(location: string, loadOptions?: BackendLoadOptions): Promise<BackendSession> {
      const options = mergeBackendOptions(factoryOptions, loadOptions, NODE_BACKEND_ID, '{ device: "cpu", threads: 4 }');
      if (loadOptions?.signal?.aborted) throw new LoraTleError('E_ABORTED', 'loading was cancelled');
      loadOptions?.onProgress?.({ phase: 'validate pack', done: 0, total: 2 });
      const graph = loadOptions?.graph ?? 'mixing';
      if (graph !== 'mixing' && graph !== 'naive') throw new LoraTleError('E_INVALID_ARGUMENT', `graph must be 'mixing' or 'naive', got "${String(graph)}"`);
      const { manifest, modelPath } = readPack(location, graph);
      loadOptions?.onProgress?.({ phase: 'create session', done: 1, total: 2 });
      let handle: OrtSessionHandle;
      try {
        handle = await createOrtSession(modelPath, { ...options, outputNames: graphOutputNames(manifest) /* every output: a WebGPU session keeps present.* on the device only when all are fetched */ });
      } catch (cause) {
        if (isLoraTleError(cause)) throw cause; // E_BACKEND_PROVIDER, E_INVALID_ARGUMENT
        const message = (cause as Error).message;
        const code = /external/i.test(message) ? 'E_PACK_EXTERNAL_DATA' : 'E_PACK_INVALID';
        throw new LoraTleError(code, `onnxruntime could not load ${modelPath}: ${message}; rebuild the pack with \`lora-tle build\``, { cause });
      }
      const missing = [manifest.io.inputIds, manifest.io.mixA, manifest.io.mixB].filter((name) => !handle.session.inputNames.includes(name));
      if (missing.length > 0) {
        await handle.session.release();
        throw new LoraTleError('E_PACK_INVALID', `model.onnx has no input ${missing.join(', ')} named in pack.json; rebuild the pack with \`lora-tle build\``);
      }
      loadOptions?.onProgress?.({ phase: 'create session', done: 2, total: 2 });
      return new NodeSession(manifest, handle.label, handle.session, handle.kvLocation, EXECUTION_PROVIDERS[handle.device].maxTokensPerRun);
    },
  };
}
