// Why an onnxruntime-node execution provider cannot start, in words a user can act on: gathers
// facts about the machine (Vulkan loader and drivers for webgpu, the CUDA provider libraries and
// CUDA/cuDNN for cuda) and turns them plus onnxruntime's error text into an E_BACKEND_PROVIDER
// LoraTleError. Also the one-node probe model that proves a provider really runs. Not the device
// table or session creation (execution-providers.ts).

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LoraTleError } from '@lora-tle/spec';

export type AcceleratedDevice = 'webgpu' | 'cuda';

/** What the diagnosis may look at; tests replace parts of it to simulate a machine. */
export interface ProviderEnvironment {
  env: Record<string, string | undefined>;
  /** Absolute path of a shared library the dynamic linker would load, or null. */
  findLibrary(soname: string): string | null;
  /** onnxruntime-node's native folder (bin/napi-v6/<platform>/<arch>). */
  ortBinDir: string;
  /** Shared libraries `file` needs that the dynamic linker cannot find (ldd "not found"). */
  unresolvedLibraries(file: string): string[];
}

export interface VulkanDriverFile {
  path: string;
  exists: boolean;
  library: string | null; // ICD.library_path
  apiVersion: string | null; // ICD.api_version, e.g. '1.4.305'
  isLavapipe: boolean;
}

export interface WebgpuFacts {
  device: 'webgpu';
  vulkanLoader: string | null; // path of libvulkan.so.1
  driverFilesFrom: 'VK_ICD_FILENAMES' | 'VK_DRIVER_FILES' | 'search path';
  driverFiles: VulkanDriverFile[];
}

export interface CudaFacts {
  device: 'cuda';
  ortBinDir: string;
  missingProviderLibraries: string[]; // of CUDA_PROVIDER_LIBRARIES, not in ortBinDir
  unresolvedLibraries: string[]; // what libonnxruntime_providers_cuda.so needs and cannot find
  cudaDriver: string | null; // libcuda.so.1 (comes with the NVIDIA driver)
}

export type ProviderFacts = WebgpuFacts | CudaFacts;

export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
export const LAVAPIPE_ENV = `XDG_RUNTIME_DIR=/tmp VK_ICD_FILENAMES=${LAVAPIPE_ICD}`;
/** The files `ONNXRUNTIME_NODE_INSTALL=1 npm rebuild onnxruntime-node` downloads (install-metadata.js). */
export const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const;

// Where the Vulkan loader looks for driver manifests when no variable overrides it (Linux).
const VULKAN_ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];

// ---- the real machine ----

function ldconfigCache(): string {
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      return execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // try the next location
    }
  }
  return '';
}

/** The machine this process runs on. */
export function currentProviderEnvironment(): ProviderEnvironment {
  const env = process.env;
  const ortPackage = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return {
    env,
    ortBinDir: join(dirname(ortPackage), 'bin', 'napi-v6', process.platform, process.arch),
    findLibrary(soname) {
      const searchDirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
      const inDirs = searchDirs.map((dir) => join(dir, soname)).find((file) => existsSync(file));
      if (inDirs) return inDirs;
      const line = ldconfigCache().split('\n').find((entry) => entry.trim().startsWith(`${soname} `));
      return line?.split('=>')[1]?.trim() ?? null;
    },
    unresolvedLibraries(file) {
      try {
        const output = execFileSync('ldd', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        return output.split('\n').filter((line) => line.includes('not found')).map((line) => line.trim().split(/\s/)[0] ?? line);
      } catch {
        return [];
      }
    },
  };
}

// ---- facts ----

function readDriverFile(path: string): VulkanDriverFile {
  if (!existsSync(path)) return { path, exists: false, library: null, apiVersion: null, isLavapipe: false };
  let library: string | null = null;
  let apiVersion: string | null = null;
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { ICD?: { library_path?: unknown; api_version?: unknown } };
    library = typeof manifest.ICD?.library_path === 'string' ? manifest.ICD.library_path : null;
    apiVersion = typeof manifest.ICD?.api_version === 'string' ? manifest.ICD.api_version : null;
  } catch {
    // an unreadable manifest is reported as one without a library
  }
  return { path, exists: true, library, apiVersion, isLavapipe: /lvp/.test(path) || /lvp/.test(library ?? '') };
}

export function gatherWebgpuFacts(environment: ProviderEnvironment): WebgpuFacts {
  const fromVariable = (['VK_ICD_FILENAMES', 'VK_DRIVER_FILES'] as const).find((name) => environment.env[name]);
  let paths: string[];
  if (fromVariable) {
    paths = (environment.env[fromVariable] ?? '').split(':').filter(Boolean);
  } else {
    paths = VULKAN_ICD_DIRS.filter((dir) => existsSync(dir)).flatMap((dir) =>
      readdirSync(dir).filter((name) => name.endsWith('.json')).map((name) => join(dir, name)),
    );
  }
  return {
    device: 'webgpu',
    vulkanLoader: environment.findLibrary('libvulkan.so.1'),
    driverFilesFrom: fromVariable ?? 'search path',
    driverFiles: paths.map(readDriverFile),
  };
}

export function gatherCudaFacts(environment: ProviderEnvironment): CudaFacts {
  const missingProviderLibraries = CUDA_PROVIDER_LIBRARIES.filter((name) => !existsSync(join(environment.ortBinDir, name)));
  const cudaProvider = join(environment.ortBinDir, 'libonnxruntime_providers_cuda.so');
  return {
    device: 'cuda',
    ortBinDir: environment.ortBinDir,
    missingProviderLibraries,
    unresolvedLibraries: existsSync(cudaProvider) ? environment.unresolvedLibraries(cudaProvider) : [],
    cudaDriver: environment.findLibrary('libcuda.so.1'),
  };
}

export function gatherProviderFacts(device: AcceleratedDevice, environment = currentProviderEnvironment()): ProviderFacts {
  return device === 'webgpu' ? gatherWebgpuFacts(environment) : gatherCudaFacts(environment);
}

// ---- diagnosis ----

/** True when onnxruntime's error text names the provider, not the model. */
export function isProviderStartError(device: AcceleratedDevice, ortMessage: string): boolean {
  const signature =
    device === 'webgpu'
      ? /WebGPU adapter|No supported adapters|webgpu_context|webgpu|dawn|vulkan/i
      : /Failed to load shared library|providers_(shared|cuda)|cuda|cudnn|cublas/i;
  return signature.test(ortMessage);
}

/** Vulkan 1.3 or newer: bookworm's Mesa 22 lavapipe says 1.1.230 and Dawn rejects it. */
function isVulkan13(apiVersion: string | null): boolean {
  const [major = 0, minor = 0] = (apiVersion ?? '0.0').split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 3);
}

const LAVAPIPE_HOW_TO =
  'On a machine without a GPU use Mesa lavapipe (software Vulkan, slow but correct): add the bookworm-backports apt source, ' +
  '`apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers` (Mesa 25; bookworm\'s Mesa 22 is rejected by Dawn) ' +
  `and run with ${LAVAPIPE_ENV} — tools/ci/install-system-deps.sh does all of this. With a GPU, install its vendor's Vulkan driver.`;

function diagnoseWebgpu(facts: WebgpuFacts): string {
  if (facts.vulkanLoader === null) {
    return `WebGPU in onnxruntime-node runs Dawn over Vulkan, and the Vulkan loader libvulkan.so.1 is not installed. ${LAVAPIPE_HOW_TO}`;
  }
  const missing = facts.driverFiles.filter((file) => !file.exists);
  if (facts.driverFilesFrom !== 'search path' && missing.length > 0) {
    return `${facts.driverFilesFrom} names Vulkan driver files that do not exist (${missing.map((file) => file.path).join(', ')}). ${LAVAPIPE_HOW_TO}`;
  }
  const present = facts.driverFiles.filter((file) => file.exists);
  if (present.length === 0) {
    return `No Vulkan driver (ICD manifest) was found in ${facts.driverFilesFrom === 'search path' ? VULKAN_ICD_DIRS.join(', ') : facts.driverFilesFrom}. ${LAVAPIPE_HOW_TO}`;
  }
  const oldLavapipe = present.find((file) => file.isLavapipe && !isVulkan13(file.apiVersion));
  if (oldLavapipe) {
    return `the Mesa lavapipe driver at ${oldLavapipe.path} reports Vulkan ${oldLavapipe.apiVersion ?? '(unknown)'}, too old for Dawn (bookworm's Mesa 22; Dawn requires shaderUniform*ArrayDynamicIndexing). ${LAVAPIPE_HOW_TO}`;
  }
  const listed = present.map((file) => `${file.path} (Vulkan ${file.apiVersion ?? '?'})`).join(', ');
  return `Dawn found no usable WebGPU adapter among the Vulkan drivers ${listed}. If none of them matches this machine's GPU, point VK_ICD_FILENAMES at the one that does. ${LAVAPIPE_HOW_TO}`;
}

const CUDA_HOW_TO =
  'The CUDA provider needs CUDA 12 (libcudart.so.12, libcublas.so.12), cuDNN 9 (libcudnn.so.9) and an NVIDIA driver (libcuda.so.1) on the library path.';

function diagnoseCuda(facts: CudaFacts): string {
  if (facts.missingProviderLibraries.length > 0) {
    return (
      `onnxruntime-node was installed without its CUDA provider libraries (${facts.missingProviderLibraries.join(', ')} missing in ${facts.ortBinDir}; ` +
      'they are not in the npm package and are downloaded from NuGet at install time). Get them with ' +
      `\`ONNXRUNTIME_NODE_INSTALL=1 npm rebuild onnxruntime-node\` (needs network). ${CUDA_HOW_TO}`
    );
  }
  if (facts.unresolvedLibraries.length > 0) {
    return `the CUDA provider library is installed but the dynamic linker cannot find ${facts.unresolvedLibraries.join(', ')}. ${CUDA_HOW_TO} Add their folder to LD_LIBRARY_PATH or install them.`;
  }
  if (facts.cudaDriver === null) {
    return `libcuda.so.1 was not found: this machine has no NVIDIA driver (no GPU, or the driver is not installed). ${CUDA_HOW_TO}`;
  }
  return `the CUDA provider libraries and CUDA libraries are present, yet the provider did not start (no usable GPU, or a CUDA/driver version mismatch). ${CUDA_HOW_TO}`;
}

/** The E_BACKEND_PROVIDER error for a provider that failed to start, from the facts and ort's message. */
export function diagnoseProviderFailure(facts: ProviderFacts, ortMessage: string, cause?: unknown): LoraTleError {
  const reason = facts.device === 'webgpu' ? diagnoseWebgpu(facts) : diagnoseCuda(facts);
  const ortLine = ortMessage.trim().split('\n').pop()?.replace(/^.*?(Failed|no available|OrtSession)/, '$1') ?? '';
  return new LoraTleError('E_BACKEND_PROVIDER', `device "${facts.device}" cannot start: ${reason} (onnxruntime said: ${ortLine})`, {
    cause,
    details: { device: facts.device, facts, ortMessage },
  });
}

// ---- probe model ----

// A hand-encoded ONNX model, y = x + x for x float32 [1, 4] (ir 8, opset 13): small enough to read
// field by field, so the probe needs no ONNX library. Field numbers are onnx.proto's.
function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return bytes;
}
const field = (number: number, payload: number[]): number[] => [...varint((number << 3) | 2), ...varint(payload.length), ...payload];
const varintField = (number: number, value: number): number[] => [...varint(number << 3), ...varint(value)];
const text = (number: number, value: string): number[] => field(number, [...new TextEncoder().encode(value)]);

function valueInfo(name: string): number[] {
  const shape = field(2, [...field(1, varintField(1, 1)), ...field(1, varintField(1, 4))]); // dims [1, 4]
  const tensorType = field(1, [...varintField(1, 1), ...shape]); // elem_type FLOAT
  return [...text(1, name), ...field(2, tensorType)];
}

export function probeModelBytes(): Uint8Array {
  const node = [...text(1, 'x'), ...text(1, 'x'), ...text(2, 'y'), ...text(4, 'Add')];
  const graph = [...field(1, node), ...text(2, 'probe'), ...field(11, valueInfo('x')), ...field(12, valueInfo('y'))];
  const opset = [...text(1, ''), ...varintField(2, 13)];
  return Uint8Array.from([...varintField(1, 8), ...field(7, graph), ...field(8, opset)]);
}

export const PROBE_INPUT = Float32Array.of(0.5, -1.25, 3, 1e-3); // y must be exactly 2·x
