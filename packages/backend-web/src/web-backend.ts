// createWebBackend: the spec Backend on onnxruntime-web. doLoad downloads the pack from a base URL
// (pack-download.ts, Cache API), picks the execution provider (webgpu when the browser has
// navigator.gpu and an adapter, else wasm), creates the session with the weights as externalData
// and returns a WebSession (on webgpu it runs steps in chunks of at most 31 query tokens). Options
// may be given to the factory and overridden per load under `backendOptions.web`. Not the step
// logic (web-session.ts).

import { appendedOutputName, mergeBackendOptions, presentOutputNames, WEBGPU_MAX_TOKENS_PER_RUN } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import type { Backend, BackendLoadOptions, BackendSession } from '@lora-tle/spec';
import { env, InferenceSession } from 'onnxruntime-web';
import { downloadPack, type PackCache } from './pack-download.js';
import { WEB_BACKEND_ID } from './web-kv-cache.js';
import { WebSession } from './web-session.js';

export type WebDevice = 'auto' | 'wasm' | 'webgpu';
export const WEB_CACHE_NAME = 'lora-tle-v1';

export interface WebBackendOptions {
  /** 'auto' (default): webgpu when navigator.gpu gives an adapter, else wasm. */
  device?: WebDevice;
  /** Cache for pack files. Default: `caches.open('lora-tle-v1')` where the Cache API exists; null: never cache. */
  cache?: PackCache | null;
  /** Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** ort.env.wasm.numThreads (a global of onnxruntime-web; set only when given). */
  wasmThreads?: number;
  /** ort.env.wasm.wasmPaths: where the .wasm files are served, when the bundler does not place them. */
  wasmPaths?: string;
}

async function hasWebgpuAdapter(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

async function chooseDevice(requested: WebDevice): Promise<'wasm' | 'webgpu'> {
  if (requested !== 'auto' && requested !== 'wasm' && requested !== 'webgpu') {
    throw new LoraTleError('E_INVALID_ARGUMENT', `unknown device "${String(requested)}"; use auto, wasm or webgpu`);
  }
  if (requested === 'wasm') return 'wasm';
  const webgpu = await hasWebgpuAdapter();
  if (requested === 'webgpu' && !webgpu) {
    throw new LoraTleError('E_BACKEND_PROVIDER', 'device "webgpu" cannot start: this browser has no navigator.gpu or gave no adapter; use a browser with WebGPU enabled (Chrome/Edge 113+) or device "wasm"');
  }
  return webgpu ? 'webgpu' : 'wasm';
}

async function defaultCache(): Promise<PackCache | null> {
  const storage = (globalThis as { caches?: { open(name: string): Promise<PackCache> } }).caches;
  if (!storage) return null;
  try {
    return await storage.open(WEB_CACHE_NAME);
  } catch {
    return null; // e.g. an insecure context: load without caching
  }
}

export function createWebBackend(factoryOptions: WebBackendOptions = {}): Backend {
  return {
    id: WEB_BACKEND_ID,
    async doLoad(location: string, loadOptions?: BackendLoadOptions): Promise<BackendSession> {
      const options = mergeBackendOptions(factoryOptions, loadOptions, WEB_BACKEND_ID, '{ device: "wasm" }');
      if (loadOptions?.signal?.aborted) throw new LoraTleError('E_ABORTED', 'loading was cancelled');
      if ((loadOptions?.graph ?? 'mixing') !== 'mixing') {
        throw new LoraTleError('E_INVALID_ARGUMENT', "the web backend runs a pack's mixing graph only; the naive graph (the paper's loop, a benchmark baseline) runs on the node backend");
      }
      const device = await chooseDevice(options.device ?? 'auto');
      if (options.wasmThreads !== undefined) env.wasm.numThreads = options.wasmThreads;
      if (options.wasmPaths !== undefined) env.wasm.wasmPaths = options.wasmPaths;
      const fetchFunction = options.fetch ?? globalThis.fetch.bind(globalThis);
      const cache = options.cache === undefined ? await defaultCache() : options.cache;
      const pack = await downloadPack(location, { fetch: fetchFunction, cache, ...(loadOptions?.onProgress ? { onProgress: loadOptions.onProgress } : {}), ...(loadOptions?.signal ? { signal: loadOptions.signal } : {}) });
      const { manifest } = pack;
      if (loadOptions?.signal?.aborted) throw new LoraTleError('E_ABORTED', 'loading was cancelled');

      loadOptions?.onProgress?.({ phase: 'create session', done: 0, total: 1 });
      // With webgpu the KV cache stays in GPU buffers between steps; logits and hidden come to the CPU.
      const placement: Record<string, 'cpu' | 'gpu-buffer'> = {};
      if (device === 'webgpu') {
        for (const names of presentOutputNames(manifest)) {
          placement[names.key] = 'gpu-buffer';
          placement[names.value] = 'gpu-buffer';
        }
        // the appended rows repeat this step's rows of present.*; a WebGPU session never reads them
        const appended = appendedOutputName(manifest);
        if (appended !== null) placement[appended] = 'gpu-buffer';
      }
      let session: InferenceSession;
      try {
        session = await InferenceSession.create(pack.model, {
          executionProviders: [device],
          externalData: pack.externalData,
          graphOptimizationLevel: 'all',
          ...(device === 'webgpu' ? { preferredOutputLocation: placement } : {}),
        });
      } catch (cause) {
        const message = (cause as Error).message;
        const code = device === 'webgpu' && /webgpu|adapter|device/i.test(message) ? 'E_BACKEND_PROVIDER' : /external/i.test(message) ? 'E_PACK_EXTERNAL_DATA' : 'E_PACK_INVALID';
        throw new LoraTleError(code, `onnxruntime-web (${device}) could not load the pack at ${location}: ${message}`, { cause });
      }
      const expected = [manifest.io.inputIds, manifest.io.mixA, manifest.io.mixB];
      const missing = expected.filter((name) => !session.inputNames.includes(name));
      if (missing.length > 0) {
        await session.release();
        throw new LoraTleError('E_PACK_INVALID', `model.onnx has no input ${missing.join(', ')} named in pack.json; rebuild the pack with \`lora-tle build\``);
      }
      loadOptions?.onProgress?.({ phase: 'create session', done: 1, total: 1 });
      // webgpu: onnxruntime 1.30's GroupQueryAttention miscomputes 32+ query tokens per run (backend-core chunked-step.ts).
      return new WebSession(manifest, device, session, device === 'webgpu' ? WEBGPU_MAX_TOKENS_PER_RUN : Number.POSITIVE_INFINITY);
    },
  } satisfies Backend;
}
