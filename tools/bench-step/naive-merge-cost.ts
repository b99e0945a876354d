// What the naive paper loop's per-token merge costs alone: @lora-tle/engine's naive merger (PEFT 0.4
// `linear` over every module of every adapter, as `lora-tle bench --modes naive` runs it) timed in a
// loop, with no model, routing or engine.
//
//   npx tsx tools/bench-step/naive-merge-cost.ts <adapters dir> <name> [<name> ...] [--calls 1000]

import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { loadPeftAdapter } from '@lora-tle/lora-store/node';
import type { LoraModuleWeights } from '@lora-tle/spec';
import { createNaiveMerger } from '../../packages/engine/src/naive-merge.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { calls: { type: 'string', default: '1000' } } });
const [adaptersDir, ...names] = positionals;
if (!adaptersDir || names.length === 0) {
  console.error('usage: naive-merge-cost.ts <adapters dir> <name> [<name> ...] [--calls n]');
  process.exit(2);
}
const weights: LoraModuleWeights[][] = [];
for (const name of names) {
  const adapter = await loadPeftAdapter(join(adaptersDir, name));
  weights.push(await adapter.readModules());
  await adapter.close();
}
const merger = await createNaiveMerger(weights, names);
const mix = { adapters: names, weights: Float32Array.from(names, (_, i) => (i === 0 ? 0.7 : 0.3 / Math.max(1, names.length - 1))) };
const calls = Number(values.calls);
for (let i = 0; i < Math.min(200, calls); i++) merger.merge(mix); // warm-up: optimised code
const startedAt = performance.now();
for (let i = 0; i < calls; i++) merger.merge(mix);
const modules = weights.reduce((sum, adapter) => sum + adapter.length, 0);
console.log(`naive merge of ${names.length} adapters (${modules} modules in all): ${((performance.now() - startedAt) / calls).toFixed(3)} ms per token, mean of ${calls} calls`);
