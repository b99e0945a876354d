// The seam between lora-tle device names and onnxruntime-node: one frozen table mapping `cpu`,
// `webgpu`, `cuda` to execution provider configs, thread counts, session creation that turns a
// provider start failure into E_BACKEND_PROVIDER (execution-provider-diagnosis.ts says why), an
// opt-in CPU fallback that reports the device actually used, and the WebGPU output placement.
// Not the step logic or the KV cache (node-session.ts, node-kv-cache.ts).

import { availableParallelism } from 'node:os';
import { WEBGPU_MAX_TOKENS_PER_RUN } from '@lora-tle/backend-core';
import { LoraTleError } from '@lora-tle/spec';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import {
  type AcceleratedDevice,
  currentProviderEnvironment,
  diagnoseProviderFailure,
  gatherProviderFacts,
  gatherWebgpuFacts,
  isProviderStartError,
  PROBE_INPUT,
  probeModelBytes,
  type ProviderEnvironment,
} from './execution-provider-diagnosis.js';

export type NodeDevice = 'cpu' | 'webgpu' | 'cuda';
export type DeviceFallback = 'cpu' | 'none';

export interface DeviceProviders {
  device: NodeDevice;
  /** What onnxruntime-node receives; ORT adds its CPU provider itself for nodes the first cannot run. */
  executionProviders: readonly InferenceSession.ExecutionProviderConfig[];
  /** Where present.* (KV) outputs can stay between steps: 'gpu-buffer' only for webgpu. */
  kvLocation: 'cpu' | 'gpu-buffer';
  /** Most query tokens one run may feed; a longer step runs in chunks (node-session.ts). */
  maxTokensPerRun: number;
  requirements: string;
}

// webgpu runs at most WEBGPU_MAX_TOKENS_PER_RUN (31) query tokens at once: onnxruntime 1.30's WebGPU
// GroupQueryAttention miscomputes 32+ (measured here; the why lives in @lora-tle/backend-core chunked-step.ts).
export { WEBGPU_MAX_TOKENS_PER_RUN };

export const EXECUTION_PROVIDERS: Readonly<Record<NodeDevice, Readonly<DeviceProviders>>> = deepFreeze({
  cpu: {
    device: 'cpu',
    executionProviders: [{ name: 'cpu' }],
    kvLocation: 'cpu',
    maxTokensPerRun: Number.POSITIVE_INFINITY,
    requirements: 'none (bundled with onnxruntime-node)',
  },
  webgpu: {
    device: 'webgpu',
    executionProviders: [{ name: 'webgpu' }],
    kvLocation: 'gpu-buffer',
    maxTokensPerRun: WEBGPU_MAX_TOKENS_PER_RUN,
    requirements: 'bundled Dawn; needs libvulkan.so.1 and a Vulkan driver (Mesa lavapipe from bookworm-backports without a GPU)',
  },
  cuda: {
    device: 'cuda',
    // CUDA outputs always come back to the host in onnxruntime-node; no output placement to choose.
    executionProviders: [{ name: 'cuda', deviceId: 0 }],
    kvLocation: 'cpu',
    maxTokensPerRun: Number.POSITIVE_INFINITY,
    requirements: '`ONNXRUNTIME_NODE_INSTALL=1 npm rebuild onnxruntime-node`, CUDA 12, cuDNN 9, an NVIDIA driver',
  },
});

export const DEFAULT_DEVICE: NodeDevice = 'cpu';
export const NODE_DEVICES = Object.freeze(Object.keys(EXECUTION_PROVIDERS) as NodeDevice[]);

export interface NodeDeviceOptions {
  /** 'cpu' (default), 'webgpu' or 'cuda'. */
  device?: string;
  /** Threads inside one operator. Default: available parallelism, at most 8 (decode is memory-bound beyond that). */
  threads?: number;
  /** Threads across independent operators. Default 1: a decoder graph is a chain. */
  interOpThreads?: number;
  /** 'none' (default): a device that cannot start throws. 'cpu': run on the CPU instead and say so. */
  fallback?: DeviceFallback;
}

export interface ResolvedProviders {
  device: NodeDevice;
  fallback: DeviceFallback;
  sessionOptions: InferenceSession.SessionOptions;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function threadCount(value: number | undefined, name: string, fallbackValue: number): number {
  if (value === undefined) return fallbackValue;
  if (!Number.isInteger(value) || value < 1) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `${name} must be a whole number ≥ 1, got ${String(value)}; omit it to use the default`);
  }
  return value;
}

/** Validates device, threads and fallback and returns the session options for that device. */
export function resolveExecutionProviders(options: NodeDeviceOptions = {}): ResolvedProviders {
  const device = options.device ?? DEFAULT_DEVICE;
  if (!(NODE_DEVICES as readonly string[]).includes(device)) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `unknown device "${device}"; use one of ${NODE_DEVICES.join(', ')}`);
  }
  const fallback = options.fallback ?? 'none';
  if (fallback !== 'none' && fallback !== 'cpu') {
    throw new LoraTleError('E_INVALID_ARGUMENT', `fallback must be 'cpu' or 'none', got "${String(fallback)}"`);
  }
  const entry = EXECUTION_PROVIDERS[device as NodeDevice];
  return {
    device: entry.device,
    fallback,
    sessionOptions: {
      executionProviders: [...entry.executionProviders],
      intraOpNumThreads: threadCount(options.threads, 'threads', Math.min(8, availableParallelism())),
      interOpNumThreads: threadCount(options.interOpThreads, 'interOpThreads', 1),
      graphOptimizationLevel: 'all',
    },
  };
}

/**
 * Output placement for a WebGPU session: present.* (the KV cache) stays in GPU buffers so the next
 * step feeds it back without a round trip; every other output (logits, hidden) comes to the CPU.
 * Traps in onnxruntime-node 1.30, checked on lavapipe:
 * - `getData()` on a gpu-buffer tensor aborts the whole process (C++ terminate, no JS error), and
 *   `.data` throws. Never download a present.* tensor; only feed it back or dispose() it.
 * - Fetch all outputs (run(feeds) with no fetch list, or a list naming every output): with a
 *   partial fetch list the placement is ignored and the fetched outputs come back on the CPU.
 * - A gpu-buffer present of step t is the past of step t+1; dispose() it after that step ran, or
 *   GPU memory grows. A disposed tensor fed again throws "Tensor.location is not supported".
 */
export function webgpuSessionOptions(outputNames: readonly string[]): Pick<InferenceSession.SessionOptions, 'preferredOutputLocation'> {
  const placement: Record<string, 'cpu' | 'gpu-buffer'> = {};
  // present.* is the next past; appended_key_values (the same rows again) is only read by CPU sessions
  for (const name of outputNames) placement[name] = name.startsWith('present') || name.startsWith('appended') ? 'gpu-buffer' : 'cpu';
  return { preferredOutputLocation: placement };
}

export interface CreateOrtSessionOptions extends NodeDeviceOptions {
  /** All output names of the model; with device 'webgpu' present.* and appended_key_values then stay on the GPU (webgpuSessionOptions). */
  outputNames?: readonly string[];
  /** For tests: the machine the diagnosis inspects. */
  environment?: ProviderEnvironment;
}

export interface OrtSessionHandle {
  session: InferenceSession;
  /** The device the session actually runs on (differs from the request only after a fallback). */
  device: NodeDevice;
  /** Human-readable, e.g. 'cpu', 'webgpu (lavapipe, software Vulkan)', 'cuda:0'. */
  label: string;
  /** Where present.* outputs come back ('gpu-buffer' only for webgpu given outputNames): feed them as the next past, never read a gpu-buffer. */
  kvLocation: 'cpu' | 'gpu-buffer';
  /** Set after a fallback: why the requested device could not start. */
  fallbackReason?: LoraTleError;
}

function deviceLabel(device: NodeDevice, environment: ProviderEnvironment): string {
  if (device === 'cuda') return 'cuda:0';
  if (device === 'cpu') return 'cpu';
  const drivers = gatherWebgpuFacts(environment).driverFiles.filter((file) => file.exists);
  return drivers.length > 0 && drivers.every((file) => file.isLavapipe) ? 'webgpu (lavapipe, software Vulkan)' : 'webgpu';
}

function createSession(model: string | Uint8Array, sessionOptions: InferenceSession.SessionOptions): Promise<InferenceSession> {
  return typeof model === 'string' ? InferenceSession.create(model, sessionOptions) : InferenceSession.create(model, sessionOptions);
}

/**
 * Starts the device's provider on the one-node probe model and checks y = 2·x. Resolves to null
 * when it runs, or to the E_BACKEND_PROVIDER error saying what is missing.
 */
export async function preflightDevice(device: NodeDevice, environment = currentProviderEnvironment()): Promise<LoraTleError | null> {
  const { sessionOptions } = resolveExecutionProviders({ device, threads: 1 });
  let ortMessage: string;
  let cause: unknown;
  try {
    const session = await createSession(probeModelBytes(), sessionOptions);
    try {
      const { y } = await session.run({ x: new Tensor('float32', PROBE_INPUT, [1, 4]) });
      const values = y?.data as Float32Array | undefined;
      if (values && PROBE_INPUT.every((x, i) => values[i] === 2 * x)) return null;
      ortMessage = `the probe model ran but returned ${values ? Array.from(values).join(', ') : 'no output'} instead of 2·x`;
    } finally {
      await session.release();
    }
  } catch (error) {
    cause = error;
    ortMessage = (error as Error).message;
  }
  if (device === 'cpu') return new LoraTleError('E_BACKEND_PROVIDER', `the CPU provider failed on a one-node model: ${ortMessage}`, { cause });
  return diagnoseProviderFailure(gatherProviderFacts(device, environment), ortMessage, cause);
}

/**
 * InferenceSession.create with the device's providers. A provider start failure becomes
 * E_BACKEND_PROVIDER (or, with fallback 'cpu', a CPU session whose `fallbackReason` says why);
 * any other failure (a broken model file) is rethrown unchanged for the caller to classify.
 */
export async function createOrtSession(model: string | Uint8Array, options: CreateOrtSessionOptions = {}): Promise<OrtSessionHandle> {
  const resolved = resolveExecutionProviders(options);
  const environment = options.environment ?? currentProviderEnvironment();
  const open = async (device: NodeDevice, fallbackReason?: LoraTleError): Promise<OrtSessionHandle> => {
    const { sessionOptions } = resolveExecutionProviders({ ...options, device });
    const keepKvOnDevice = EXECUTION_PROVIDERS[device].kvLocation === 'gpu-buffer' && options.outputNames !== undefined;
    const placement = keepKvOnDevice ? webgpuSessionOptions(options.outputNames ?? []) : {};
    const kvLocation = keepKvOnDevice ? 'gpu-buffer' : 'cpu';
    const session = await createSession(model, { ...sessionOptions, ...placement });
    const handle: OrtSessionHandle = { session, device, label: deviceLabel(device, environment), kvLocation };
    return fallbackReason ? { ...handle, fallbackReason } : handle;
  };
  if (resolved.device === 'cpu') return open('cpu');
  const accelerated: AcceleratedDevice = resolved.device;
  try {
    return await open(accelerated);
  } catch (error) {
    const ortMessage = (error as Error).message ?? String(error);
    // Detect, don't guess: when ort's text does not name the provider, the probe model decides
    // whether the provider or the model is at fault.
    const providerError = isProviderStartError(accelerated, ortMessage)
      ? diagnoseProviderFailure(gatherProviderFacts(accelerated, environment), ortMessage, error)
      : await preflightDevice(accelerated, environment);
    if (providerError === null) throw error;
    if (resolved.fallback === 'cpu') return open('cpu', providerError);
    throw providerError;
  }
}
