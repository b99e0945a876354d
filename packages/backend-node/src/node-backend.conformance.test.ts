// The shared backend conformance suite (describeBackendConformance, from @lora-tle/backend-web,
// where the web backend runs it too) on the Node backend: on `cpu` always, and on `webgpu` when
// the WebGPU preflight passes (Mesa lavapipe without a GPU; skipped with the reason otherwise).
// The packs are two random tiny models over one base: `mixed` (adapters qv and mlp) and
// `firstAdapterOnly` (qv), the same recipe as backend-web's test packs.

import { afterAll, describe, it } from 'vitest';
import { describeBackendConformance, type ConformancePacks } from '@lora-tle/backend-web/conformance';
import { preflightDevice } from './execution-providers.js';
import { createNodeBackend } from './index.js';
import { buildConformancePacks, mix, tempDirs } from './test-support.js';

const dirs = tempDirs('conformance');
afterAll(() => dirs.cleanup());

let packs: Promise<ConformancePacks> | null = null;
/** Built once, on first use. */
function conformancePacks(): Promise<ConformancePacks> {
  packs ??= buildConformancePacks(dirs);
  return packs;
}

const testApi = { describe, it, afterAll };

describeBackendConformance(testApi, {
  name: 'node (cpu)',
  makeBackend: () => createNodeBackend({ device: 'cpu', threads: 1 }),
  packs: conformancePacks,
  mixFor: mix,
});

const webgpuProblem = await preflightDevice('webgpu');
if (webgpuProblem) {
  console.warn(`[conformance] node (webgpu) skipped: ${webgpuProblem.message}`);
} else {
  describeBackendConformance(testApi, {
    name: 'node (webgpu)',
    makeBackend: () => createNodeBackend({ device: 'webgpu', threads: 1 }),
    packs: conformancePacks,
    mixFor: mix,
    timeoutMs: 120_000, // cold lavapipe compiles shaders on first use
  });
}
