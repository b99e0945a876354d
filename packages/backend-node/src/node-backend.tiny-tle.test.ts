// Parity with transformers + PEFT on the real fixture fixtures/tiny-tle (tiny-tle-parity.ts): the
// pack is built once per run into a temp dir; for every reference prompt and run (base, each
// adapter, cat and linear mixtures): logits after prefill and at every one of the 32 greedy steps
// with KV reuse within 1e-4, and identical greedy ids. The token-level run (weights change every
// step, whole sequence recomputed, the paper's loop) is replayed with a fresh prefill per step.
// Skipped, with a message, when the fixture has no reference yet.

import { createNodeBackend } from './index.js';
import { describeTinyTleParity } from './tiny-tle-parity.js';

describeTinyTleParity('node', (packDir) => createNodeBackend({ threads: 2 }).doLoad(packDir));
