// Parity with transformers + PEFT on the real fixture fixtures/tiny-tle, as the node backend is
// checked (backend-node's tiny-tle-parity.ts): base, each adapter, cat and linear mixtures, prefill
// and 32 greedy steps with KV reuse within 1e-4 and identical greedy ids; the token-level run with a
// fresh prefill per step. Skipped, with a message, when the fixture has no reference yet.

import { describeTinyTleParity } from '../../backend-node/src/tiny-tle-parity.js';
import { createSimdBackend } from './index.js';

describeTinyTleParity('simd', (packDir) => createSimdBackend().doLoad(packDir));
