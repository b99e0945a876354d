// The shared backend conformance suite (describeBackendConformance from @lora-tle/backend-web) on
// the simd backend, over the same two random packs the node backend's suite builds: `mixed`
// (adapters qv and mlp) and `firstAdapterOnly` (qv).

import { afterAll, describe, it } from 'vitest';
import { describeBackendConformance, type ConformancePacks } from '@lora-tle/backend-web/conformance';
import { buildConformancePacks, mix, tempDirs } from '../../backend-node/src/test-support.js';
import { createSimdBackend } from './index.js';

const dirs = tempDirs('simd-conformance');
afterAll(() => dirs.cleanup());

let packs: Promise<ConformancePacks> | null = null;
/** Built once, on first use. */
function conformancePacks(): Promise<ConformancePacks> {
  packs ??= buildConformancePacks(dirs);
  return packs;
}

describeBackendConformance({ describe, it, afterAll }, { name: 'simd', makeBackend: createSimdBackend, packs: conformancePacks, mixFor: mix });
