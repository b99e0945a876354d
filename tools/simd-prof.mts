import { createSimdBackend } from '../packages/backend-simd/src/index.js';
import { mixCoefficients } from '../packages/mixing/src/index.js';
import { readdirSync } from 'node:fs';
const root = `${process.env.HOME}/.cache/lora-tle`; const pack = `${root}/${readdirSync(root).filter((d) => d.startsWith('tiny-tle-')).sort().pop()}/pack`;
const simd = await createSimdBackend().doLoad(pack);
const ids = Int32Array.from({ length: 56 }, (_, i) => (i * 13) % 1000 + 3);
const mix = mixCoefficients([0.7, 0.1, 0.1, 0.1], 'cat');
let pre = 0, dec = 0, n = 0;
for (let round = 0; round < 60; round++) {
  const t0 = performance.now();
  let r = await simd.doStep({ inputIds: ids, batchSize: 1, sequenceLength: 56, mix: [mix], cache: null });
  const t1 = performance.now();
  let c = r.cache;
  for (let t = 0; t < 128; t++) { r = await simd.doStep({ inputIds: Int32Array.from([(t * 37) % 1000 + 3]), batchSize: 1, sequenceLength: 1, mix: [mix], cache: c }); c = r.cache; }
  const t2 = performance.now();
  if (round >= 10) { pre += t1 - t0; dec += (t2 - t1) / 128; n++; }
  c.dispose();
}
console.log('prefill 56 tokens', (pre / n).toFixed(2), 'ms; decode', (dec / n).toFixed(4), 'ms/step');
