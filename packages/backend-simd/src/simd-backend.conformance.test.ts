// The shared backend conformance suite (describeBackendConformance from @lora-tle/backend-web) on
// the simd backend, over the same two random packs the node backend's suite builds: `mixed`
// (adapters qv and mlp) and `firstAdapterOnly` (qv).

import { afterAll, describe, it } from 'vitest';
import { describeBackendConformance, type ConformancePacks } from '@lora-tle/backend-web/conformance';
import { createRandomAdapter, createRandomLlama } from '@lora-tle/graph';
import { buildPack, mix, tempDirs } from '../../backend-node/src/test-support.js';
import { createSimdBackend } from './index.js';

const dirs = tempDirs('simd-conformance');
afterAll(() => dirs.cleanup());

let packs: Promise<ConformancePacks> | null = null;
function conformancePacks(): Promise<ConformancePacks> {
  packs ??= (async () => {
    const model = createRandomLlama({}, 21);
    const qv = createRandomAdapter(model.architecture, { name: 'qv', rank: 4, targets: ['q_proj', 'v_proj', 'o_proj'] }, 22);
    const mlp = createRandomAdapter(model.architecture, { name: 'mlp', rank: 2, targets: ['gate_proj', 'down_proj'] }, 23);
    return { mixed: await buildPack(dirs, 'mixed', model, [qv, mlp]), firstAdapterOnly: await buildPack(dirs, 'first', model, [qv]) };
  })();
  return packs;
}

describeBackendConformance({ describe, it, afterAll }, { name: 'simd', makeBackend: createSimdBackend, packs: conformancePacks, mixFor: mix });
