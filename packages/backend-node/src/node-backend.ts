// createNodeBackend: the spec Backend on onnxruntime-node. doLoad validates the pack directory
// (pack-manifest.ts), creates the InferenceSession with the configured execution providers and
// thread counts, and returns a NodeSession. Options may be given to the factory and overridden per
// load under `backendOptions.node`. Not the step logic (node-session.ts).

import { availableParallelism } from 'node:os';
import { LoraTleError } from '@lora-tle/spec';
import type { Backend, BackendLoadOptions, BackendSession } from '@lora-tle/spec';
import { InferenceSession } from 'onnxruntime-node';
import { NODE_BACKEND_ID } from './node-kv-cache.js';
import { NodeSession } from './node-session.js';
import { readPack } from './pack-manifest.js';

export interface NodeBackendOptions {
  /** onnxruntime execution providers in order of preference. Default ['cpu']. */
  executionProviders?: InferenceSession.ExecutionProviderConfig[];
  /** Threads inside one operator. Default: the machine's available parallelism, at most 8 (decode is memory-bound beyond that). */
  intraOpNumThreads?: number;
  /** Threads across independent operators. Default 1 (a decoder graph is a chain). */
  interOpNumThreads?: number;
  graphOptimizationLevel?: InferenceSession.SessionOptions['graphOptimizationLevel'];
}

function mergeOptions(factory: NodeBackendOptions, load: BackendLoadOptions | undefined): NodeBackendOptions {
  const perLoad = load?.backendOptions?.[NODE_BACKEND_ID];
  if (perLoad !== undefined && (typeof perLoad !== 'object' || perLoad === null)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', 'backendOptions.node must be an object such as { executionProviders: ["cpu"] }');
  }
  return { ...factory, ...(perLoad as NodeBackendOptions | undefined) };
}

function deviceName(providers: readonly InferenceSession.ExecutionProviderConfig[]): string {
  const first = providers[0] ?? 'cpu';
  return typeof first === 'string' ? first : first.name;
}

export function createNodeBackend(factoryOptions: NodeBackendOptions = {}): Backend {
  return {
    id: NODE_BACKEND_ID,
    async doLoad(location: string, loadOptions?: BackendLoadOptions): Promise<BackendSession> {
      const options = mergeOptions(factoryOptions, loadOptions);
      if (loadOptions?.signal?.aborted) throw new LoraTleError('E_ABORTED', 'loading was cancelled');
      loadOptions?.onProgress?.({ phase: 'validate pack', done: 0, total: 2 });
      const { manifest, modelPath } = readPack(location);
      const providers = options.executionProviders ?? ['cpu'];
      const intraOpNumThreads = options.intraOpNumThreads ?? Math.min(8, availableParallelism());
      loadOptions?.onProgress?.({ phase: 'create session', done: 1, total: 2 });
      let session: InferenceSession;
      try {
        session = await InferenceSession.create(modelPath, {
          executionProviders: providers,
          intraOpNumThreads,
          interOpNumThreads: options.interOpNumThreads ?? 1,
          graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
        });
      } catch (cause) {
        const message = (cause as Error).message;
        const code = /external/i.test(message) ? 'E_PACK_EXTERNAL_DATA' : 'E_PACK_INVALID';
        throw new LoraTleError(code, `onnxruntime could not load ${modelPath}: ${message}; rebuild the pack with \`lora-tle build\``, { cause });
      }
      const expected = [manifest.io.inputIds, manifest.io.mixA, manifest.io.mixB];
      const missing = expected.filter((name) => !session.inputNames.includes(name));
      if (missing.length > 0) {
        await session.release();
        throw new LoraTleError('E_PACK_INVALID', `model.onnx has no input ${missing.join(', ')} named in pack.json; rebuild the pack with \`lora-tle build\``);
      }
      loadOptions?.onProgress?.({ phase: 'create session', done: 2, total: 2 });
      return new NodeSession(manifest, deviceName(providers), session);
    },
  };
}
