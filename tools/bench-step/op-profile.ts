// Where a decode step's time goes inside onnxruntime: runs the same prefill + decode loop as
// bare-steps.ts with onnxruntime's own profiler on, then sums the profiler's per-node kernel times
// by operator type (and lists the slowest nodes), per decode step. The profiler adds its own cost
// to every node, so read the shares, not the absolute times (bare-steps.ts times steps).
//
//   npx tsx tools/bench-step/op-profile.ts <pack dir> [--steps 128] [--prompt-tokens 40] [--threads 1] [--top 15]

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InferenceSession } from 'onnxruntime-node';
import { stepOutputNames } from '@lora-tle/backend-core';
import type { PackManifest } from '@lora-tle/spec';
import { bareStepFeeds } from './bare-feeds.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '128' },
    'prompt-tokens': { type: 'string', default: '40' },
    threads: { type: 'string', default: '1' },
    top: { type: 'string', default: '15' },
  },
});
const dir = positionals[0];
if (!dir) {
  console.error('usage: op-profile.ts <pack dir> [--steps n] [--prompt-tokens n] [--threads n] [--top n]');
  process.exit(2);
}
const steps = Number(values.steps);
const promptTokens = Number(values['prompt-tokens']);
const pack = JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8')) as PackManifest;
const scratch = mkdtempSync(join(tmpdir(), 'lora-tle-op-profile-'));
const session = await InferenceSession.create(join(dir, pack.files.model), {
  executionProviders: ['cpu'],
  intraOpNumThreads: Number(values.threads),
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  enableProfiling: true,
  profileFilePrefix: join(scratch, 'profile'),
});
const fetches = stepOutputNames(pack, false);
let cache = await session.run(bareStepFeeds(pack, promptTokens, 0, null), fetches);
for (let step = 0; step < steps; step++) cache = await session.run(bareStepFeeds(pack, 1, promptTokens + step, cache), fetches);
session.endProfiling();
await session.release();

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}
const profile = join(scratch, readdirSync(scratch)[0]!);
const events = JSON.parse(readFileSync(profile, 'utf8')) as ProfileEvent[];
rmSync(scratch, { recursive: true, force: true });
const runs = events.filter((event) => event.cat === 'Session' && event.name === 'model_run');
const decodeRuns = runs.slice(1);
const perStep = (total: number): string => (total / decodeRuns.length).toFixed(1).padStart(8);
const runTotal = decodeRuns.reduce((sum, event) => sum + event.dur, 0);
// kernel events of decode runs only: the prefill is the first model_run
const firstDecodeStart = decodeRuns[0]!.ts;
const kernels = events.filter((event) => event.cat === 'Node' && event.name.endsWith('_kernel_time') && event.ts >= firstDecodeStart);
const byOp = new Map<string, number>();
const byNode = new Map<string, number>();
for (const event of kernels) {
  const op = event.args?.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + event.dur);
  byNode.set(event.name, (byNode.get(event.name) ?? 0) + event.dur);
}
const kernelTotal = [...byOp.values()].reduce((a, b) => a + b, 0);
console.log(`${decodeRuns.length} decode steps after a ${promptTokens}-token prefill; µs per step`);
console.log(`model_run ${perStep(runTotal)}   kernels ${perStep(kernelTotal)}   outside kernels ${perStep(runTotal - kernelTotal)}   nodes run per step ${(kernels.length / decodeRuns.length).toFixed(0)}`);
for (const [op, total] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(36)} ${perStep(total)}`);
console.log('slowest nodes:');
for (const [node, total] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`  ${node.padEnd(60)} ${perStep(total)}`);
