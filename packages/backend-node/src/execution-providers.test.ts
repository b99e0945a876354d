// The device table, option validation, the diagnosis messages on simulated machines, the CUDA
// failure and CPU fallback on this machine, a WebGPU failure forced through VK_ICD_FILENAMES (in a
// child process: the Vulkan loader reads it once per process), and — where Mesa lavapipe is
// installed — a real WebGPU run of a tiny pack compared with the CPU, KV cache kept on the GPU.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import { isLoraTleError, type LoraTleError } from '@lora-tle/spec';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import {
  CUDA_PROVIDER_LIBRARIES,
  currentProviderEnvironment,
  diagnoseProviderFailure,
  gatherProviderFacts,
  isProviderStartError,
  LAVAPIPE_ICD,
  PROBE_INPUT,
  probeModelBytes,
  type ProviderEnvironment,
} from './execution-provider-diagnosis.js';
import { createOrtSession, EXECUTION_PROVIDERS, NODE_DEVICES, preflightDevice, resolveExecutionProviders, webgpuSessionOptions } from './execution-providers.js';
import { buildPack, maxAbsDifference, mix, tempDirs } from './test-support.js';

const dirs = tempDirs('providers');
afterAll(() => dirs.cleanup());

// Messages onnxruntime-node 1.30 gives (copied from real runs on this machine).
const ORT_WEBGPU_NO_ADAPTER =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...) ' +
  'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
const ORT_CUDA_NO_LIBRARY = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';

function rejection(promise: Promise<unknown>): Promise<LoraTleError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      if (!isLoraTleError(error)) throw error;
      return error;
    },
  );
}

function simulatedMachine(overrides: Partial<ProviderEnvironment>): ProviderEnvironment {
  return { ...currentProviderEnvironment(), ...overrides };
}

describe('device table and options', () => {
  it('maps cpu, webgpu and cuda to ort providers in a frozen table, cpu by default', () => {
    expect(NODE_DEVICES).toEqual(['cpu', 'webgpu', 'cuda']);
    expect(EXECUTION_PROVIDERS.webgpu.executionProviders).toEqual([{ name: 'webgpu' }]);
    expect(EXECUTION_PROVIDERS.cuda.executionProviders).toEqual([{ name: 'cuda', deviceId: 0 }]);
    expect(Object.isFrozen(EXECUTION_PROVIDERS)).toBe(true);
    expect(Object.isFrozen(EXECUTION_PROVIDERS.cpu.executionProviders[0])).toBe(true);
    const resolved = resolveExecutionProviders();
    expect(resolved.device).toBe('cpu');
    expect(resolved.fallback).toBe('none');
    expect(resolved.sessionOptions).toMatchObject({
      executionProviders: [{ name: 'cpu' }],
      intraOpNumThreads: Math.min(8, availableParallelism()),
      interOpNumThreads: 1,
    });
    (resolved.sessionOptions.executionProviders as unknown[]).push('webgpu'); // a copy: the table is untouched
    expect(EXECUTION_PROVIDERS.cpu.executionProviders).toHaveLength(1);
  });

  it('takes thread counts and refuses unknown devices, bad thread counts and bad fallbacks', () => {
    expect(resolveExecutionProviders({ device: 'webgpu', threads: 3, interOpThreads: 2 }).sessionOptions).toMatchObject({ intraOpNumThreads: 3, interOpNumThreads: 2 });
    const unknown = (() => {
      try {
        resolveExecutionProviders({ device: 'gpu' });
      } catch (error) {
        return error as LoraTleError;
      }
      return null;
    })();
    expect(unknown?.code).toBe('E_INVALID_ARGUMENT');
    expect(unknown?.message).toContain('use one of cpu, webgpu, cuda');
    expect(() => resolveExecutionProviders({ threads: 0 })).toThrow(/threads must be a whole number/);
    expect(() => resolveExecutionProviders({ threads: 1.5 })).toThrow(/threads must be a whole number/);
    expect(() => resolveExecutionProviders({ fallback: 'wasm' as never })).toThrow(/fallback must be/);
  });

  it('keeps present.* and the appended rows on the GPU and logits and hidden on the CPU for webgpu', () => {
    expect(webgpuSessionOptions(['logits', 'present.0.key', 'present.0.value', 'last_hidden_state', 'appended_key_values'])).toEqual({
      preferredOutputLocation: { logits: 'cpu', 'present.0.key': 'gpu-buffer', 'present.0.value': 'gpu-buffer', last_hidden_state: 'cpu', appended_key_values: 'gpu-buffer' },
    });
  });
});

describe('probe model', () => {
  it('is a valid ONNX model computing y = 2·x on the CPU', async () => {
    expect(await preflightDevice('cpu')).toBeNull();
    const { session, device } = await createOrtSession(probeModelBytes(), { threads: 1 });
    expect(device).toBe('cpu');
    expect(session.inputNames).toEqual(['x']);
    const { y } = await session.run({ x: new Tensor('float32', PROBE_INPUT, [1, 4]) });
    expect(Array.from(y?.data as Float32Array)).toEqual([1, -2.5, 6, 2e-3].map(Math.fround));
    await session.release();
  });
});

describe('diagnosis on simulated machines', () => {
  it('recognises provider start errors from ort text, not model errors', () => {
    expect(isProviderStartError('webgpu', ORT_WEBGPU_NO_ADAPTER)).toBe(true);
    expect(isProviderStartError('cuda', ORT_CUDA_NO_LIBRARY)).toBe(true);
    expect(isProviderStartError('webgpu', 'Load model from x.onnx failed: File doesn\'t exist')).toBe(false);
  });

  it('webgpu without libvulkan.so.1 names the loader and lavapipe from bookworm-backports', () => {
    const facts = gatherProviderFacts('webgpu', simulatedMachine({ findLibrary: () => null }));
    const error = diagnoseProviderFailure(facts, ORT_WEBGPU_NO_ADAPTER);
    expect(error.code).toBe('E_BACKEND_PROVIDER');
    expect(error.message).toContain('libvulkan.so.1 is not installed');
    expect(error.message).toContain('bookworm-backports libvulkan1 mesa-vulkan-drivers');
    expect(error.message).toContain(`VK_ICD_FILENAMES=${LAVAPIPE_ICD}`);
    expect(error.message).toContain('onnxruntime said: Failed to get a WebGPU adapter: No supported adapters');
  });

  it('webgpu with VK_ICD_FILENAMES at a missing file names that file', () => {
    const machine = simulatedMachine({ findLibrary: () => '/usr/lib/libvulkan.so.1', env: { VK_ICD_FILENAMES: '/nowhere/lvp_icd.json' } });
    const error = diagnoseProviderFailure(gatherProviderFacts('webgpu', machine), ORT_WEBGPU_NO_ADAPTER);
    expect(error.message).toContain('VK_ICD_FILENAMES names Vulkan driver files that do not exist (/nowhere/lvp_icd.json)');
    expect(error.message).toContain('lavapipe');
  });

  it("webgpu with bookworm's Mesa 22 lavapipe (Vulkan 1.1) says it is too old", () => {
    const manifest = dirs.make('lvp_icd.x86_64.json');
    writeFileSync(manifest, JSON.stringify({ ICD: { api_version: '1.1.230', library_path: '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so' }, file_format_version: '1.0.0' }));
    const machine = simulatedMachine({ findLibrary: () => '/usr/lib/libvulkan.so.1', env: { VK_ICD_FILENAMES: manifest } });
    const error = diagnoseProviderFailure(gatherProviderFacts('webgpu', machine), ORT_WEBGPU_NO_ADAPTER);
    expect(error.message).toContain('reports Vulkan 1.1.230, too old for Dawn');
    expect(error.message).toContain('Mesa 22');
  });

  it('cuda without provider libraries gives the rebuild command and the CUDA 12 / cuDNN 9 needs', () => {
    const ortBinDir = dirs.make('bin-empty');
    mkdirSync(ortBinDir);
    const error = diagnoseProviderFailure(gatherProviderFacts('cuda', simulatedMachine({ ortBinDir })), ORT_CUDA_NO_LIBRARY);
    expect(error.message).toContain('ONNXRUNTIME_NODE_INSTALL=1 npm rebuild onnxruntime-node');
    expect(error.message).toContain(`${CUDA_PROVIDER_LIBRARIES.join(', ')} missing in ${ortBinDir}`);
    expect(error.message).toContain('cuDNN 9 (libcudnn.so.9)');
  });

  it('cuda with provider libraries but without cuDNN or the driver names what the linker misses', () => {
    const ortBinDir = dirs.make('bin-cuda');
    mkdirSync(ortBinDir);
    for (const name of CUDA_PROVIDER_LIBRARIES) writeFileSync(join(ortBinDir, name), '');
    const noCudnn = simulatedMachine({ ortBinDir, unresolvedLibraries: () => ['libcudnn.so.9'] });
    expect(diagnoseProviderFailure(gatherProviderFacts('cuda', noCudnn), ORT_CUDA_NO_LIBRARY).message).toContain('cannot find libcudnn.so.9');
    const noDriver = simulatedMachine({ ortBinDir, unresolvedLibraries: () => [], findLibrary: () => null });
    expect(diagnoseProviderFailure(gatherProviderFacts('cuda', noDriver), ORT_CUDA_NO_LIBRARY).message).toContain('libcuda.so.1 was not found');
  });
});

const cudaProviderInstalled = CUDA_PROVIDER_LIBRARIES.every((name) => existsSync(join(currentProviderEnvironment().ortBinDir, name)));

describe.skipIf(cudaProviderInstalled)('cuda on a machine without the CUDA provider (onnxruntime-node installed with ONNXRUNTIME_NODE_INSTALL=skip)', () => {
  it('fails with E_BACKEND_PROVIDER and the rebuild hint', async () => {
    const error = await rejection(createOrtSession(probeModelBytes(), { device: 'cuda' }));
    expect(error.code).toBe('E_BACKEND_PROVIDER');
    expect(error.message).toMatch(/^device "cuda" cannot start: onnxruntime-node was installed without its CUDA provider libraries/);
    expect(error.message).toContain('`ONNXRUNTIME_NODE_INSTALL=1 npm rebuild onnxruntime-node`');
  });

  it("falls back to the CPU only when asked, and reports the device used", async () => {
    const handle = await createOrtSession(probeModelBytes(), { device: 'cuda', fallback: 'cpu', outputNames: ['y'] });
    expect(handle.device).toBe('cpu');
    expect(handle.label).toBe('cpu');
    expect(handle.kvLocation).toBe('cpu');
    expect(handle.fallbackReason?.code).toBe('E_BACKEND_PROVIDER');
    const { y } = await handle.session.run({ x: new Tensor('float32', PROBE_INPUT, [1, 4]) });
    expect((y?.data as Float32Array)[2]).toBe(6);
    await handle.session.release();
  });

  it('rethrows a broken model file unchanged instead of blaming the provider', async () => {
    const error = await createOrtSession(dirs.make('missing.onnx'), { device: 'cuda', fallback: 'cpu' }).catch((caught: unknown) => caught as Error);
    expect(isLoraTleError(error)).toBe(false);
    expect((error as Error).message).toMatch(/missing\.onnx/);
  });
});

// ---- webgpu in a child process, with the Vulkan environment the test chooses ----

const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));

function runWebgpuChild(env: Record<string, string>, fallback: 'cpu' | 'none'): { code?: string; message?: string; device?: string; y?: number[] } {
  const script = `
    const { createOrtSession } = await import(${JSON.stringify(join(SOURCE_DIR, 'execution-providers.ts'))});
    const { probeModelBytes, PROBE_INPUT } = await import(${JSON.stringify(join(SOURCE_DIR, 'execution-provider-diagnosis.ts'))});
    const { Tensor } = await import('onnxruntime-node');
    try {
      const handle = await createOrtSession(probeModelBytes(), { device: 'webgpu', threads: 1, fallback: ${JSON.stringify(fallback)} });
      const { y } = await handle.session.run({ x: new Tensor('float32', PROBE_INPUT, [1, 4]) });
      console.log(JSON.stringify({ device: handle.device, code: handle.fallbackReason?.code, message: handle.fallbackReason?.message, y: Array.from(y.data) }));
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, message: error.message }));
    }`;
  const output = execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: SOURCE_DIR,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(output.trim().split('\n').pop() ?? '{}') as ReturnType<typeof runWebgpuChild>;
}

describe('webgpu with a Vulkan driver that is not there', () => {
  it('fails with E_BACKEND_PROVIDER naming the missing file and lavapipe; falls back to cpu when asked', () => {
    const env = { XDG_RUNTIME_DIR: '/tmp', VK_ICD_FILENAMES: '/nonexistent/lvp_icd.json' };
    const failed = runWebgpuChild(env, 'none');
    expect(failed.code).toBe('E_BACKEND_PROVIDER');
    expect(failed.message).toContain('lavapipe');
    // With no loader at all the message names libvulkan.so.1 instead of the file.
    expect(failed.message).toMatch(/\/nonexistent\/lvp_icd\.json|libvulkan\.so\.1/);
    const fellBack = runWebgpuChild(env, 'cpu');
    expect(fellBack).toMatchObject({ device: 'cpu', code: 'E_BACKEND_PROVIDER', y: [1, -2.5, 6, Math.fround(2e-3) * 1] });
  });
});

// ---- webgpu for real (Mesa lavapipe or a GPU) ----

const webgpuFacts = gatherProviderFacts('webgpu');
const webgpuPresent = webgpuFacts.device === 'webgpu' && webgpuFacts.vulkanLoader !== null && webgpuFacts.driverFiles.some((file) => file.exists);
if (!webgpuPresent) {
  console.warn(`[execution-providers.test] real WebGPU tests skipped: no Vulkan loader or driver; run tools/ci/install-system-deps.sh (Mesa lavapipe) to enable them`);
}

describe.skipIf(!webgpuPresent)('webgpu on this machine (first run compiles shaders: lavapipe caches them in ~/.cache/mesa_shader_cache_db)', () => {
  it('passes the preflight', async () => {
    expect(await preflightDevice('webgpu')).toBeNull();
  });

  it('runs a tiny pack (GroupQueryAttention, 4 heads / 2 kv heads, d = 32) like the CPU, KV cache kept in GPU buffers', async () => {
    const model = createRandomLlama({ hiddenSize: 128, numHeads: 4, numKvHeads: 2, headDim: 32, intermediateSize: 96 }, 5);
    const adapters = [createRandomAdapter(model.architecture, { name: 'qv', rank: 4, targets: ['q_proj', 'v_proj', 'down_proj'] }, 6)];
    const packDir = await buildPack(dirs, 'webgpu-pack', model, adapters);
    const modelPath = join(packDir, 'model.onnx');
    const { numLayers, numKvHeads, headDim: d, vocabSize: V } = model.architecture;
    const outputNames = ['logits', 'last_hidden_state', 'appended_key_values'];
    for (let layer = 0; layer < numLayers; layer++) outputNames.push(`present.${layer}.key`, `present.${layer}.value`);

    const cpu = await createOrtSession(modelPath, { device: 'cpu', threads: 1 });
    const gpu = await createOrtSession(modelPath, { device: 'webgpu', threads: 1, outputNames });
    expect(gpu.device).toBe('webgpu');
    expect(gpu.kvLocation).toBe('gpu-buffer');
    expect([...gpu.session.outputNames].sort()).toEqual([...outputNames].sort());

    const coefficients = mix([0.7], 'cat');
    const feedsFor = (tokens: number[], past: number, cache: InferenceSession.OnnxValueMapType | null): Record<string, Tensor> => {
      const T = tokens.length;
      const feeds: Record<string, Tensor> = {
        input_ids: new Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, T]),
        attention_mask: new Tensor('int64', new BigInt64Array(past + T).fill(1n), [1, past + T]),
        position_ids: new Tensor('int64', BigInt64Array.from(tokens, (_, t) => BigInt(past + t)), [1, T]),
        mix_a: new Tensor('float32', coefficients.a, [1, 1]),
        mix_b: new Tensor('float32', coefficients.b, [1, 1]),
        logits_to_keep: new Tensor('int64', BigInt64Array.of(BigInt(T)), [1]), // every position's logits
      };
      for (let layer = 0; layer < numLayers; layer++) {
        for (const kind of ['key', 'value']) {
          feeds[`past_key_values.${layer}.${kind}`] = (cache?.[`present.${layer}.${kind}`] as Tensor | undefined) ?? new Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, d]);
        }
      }
      return feeds;
    };
    let cpuCache: InferenceSession.OnnxValueMapType | null = null;
    let gpuCache: InferenceSession.OnnxValueMapType | null = null;
    const steps = [[3, 14, 15, 9], [2], [6]];
    let past = 0;
    for (const tokens of steps) {
      const cpuOut: InferenceSession.OnnxValueMapType = await cpu.session.run(feedsFor(tokens, past, cpuCache));
      const gpuOut: InferenceSession.OnnxValueMapType = await gpu.session.run(feedsFor(tokens, past, gpuCache)); // all outputs: see webgpuSessionOptions
      expect(gpuOut['present.0.key']?.location).toBe('gpu-buffer');
      expect(gpuOut['appended_key_values']?.location).toBe('gpu-buffer');
      expect(gpuOut['appended_key_values']?.dims).toEqual([2 * numLayers, numKvHeads, tokens.length, d]); // (2·L·B, n_kv, T, d)
      gpuOut['appended_key_values']?.dispose();
      expect(gpuOut.logits?.location).toBe('cpu');
      expect(gpuOut['present.0.key']?.dims).toEqual([1, numKvHeads, past + tokens.length, d]);
      const logits = gpuOut.logits?.data as Float32Array;
      expect(logits.length).toBe(tokens.length * V);
      expect(maxAbsDifference(logits, cpuOut.logits?.data as Float32Array)).toBeLessThan(1e-3);
      if (gpuCache) for (let layer = 0; layer < numLayers; layer++) for (const kind of ['key', 'value']) gpuCache[`present.${layer}.${kind}`]?.dispose();
      cpuCache = cpuOut;
      gpuCache = gpuOut;
      past += tokens.length;
    }
    await cpu.session.release();
    await gpu.session.release();
  }, 300_000); // cold lavapipe shader compilation took up to a minute per GQA variant on a loaded 2-core machine
});
