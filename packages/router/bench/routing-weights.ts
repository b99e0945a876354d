// Routing weight quality, unfitted vs fitted hashing embedder, paper strategy: argmax accuracy and
// the weight on the right adapter at the prompt and on prompt + answer prefixes, per task, on
// tiny-tle and (when present) the real datasets. The numbers in packages/router/README.md come from here.
// Run: node --conditions=source --import tsx packages/router/bench/routing-weights.ts

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHashingEmbedder } from '../src/hashing-embedder.js';
import { fitOnSuite, formatQuality, loadSuiteTexts, measureRoutingQuality, REAL_TASKS, TINY_TLE_TASKS, type QualityTask } from '../src/routing-quality-support.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const suites: Array<[string, string, QualityTask[]]> = [
  ['tiny-tle', join(REPO_ROOT, 'fixtures/tiny-tle/data'), TINY_TLE_TASKS],
  ['real', process.env['LORA_TLE_DATASETS'] ?? resolve(REPO_ROOT, '../shared/datasets'), REAL_TASKS],
];

async function main(): Promise<void> {
  for (const [name, root, tasks] of suites) {
    if (!existsSync(join(root, tasks[0]!.train))) {
      console.log(`${name}: skipped, no data at ${root}`);
      continue;
    }
    const texts = await loadSuiteTexts(root, tasks);
    console.log(formatQuality(`${name}, unfitted hashing`, await measureRoutingQuality(createHashingEmbedder(), texts)));
    const started = performance.now();
    const fitted = fitOnSuite(texts);
    console.log(`fit: ${fitted.fit!.keys.length} features in ${(performance.now() - started).toFixed(0)} ms`);
    console.log(formatQuality(`${name}, fitted hashing`, await measureRoutingQuality(fitted, texts)));
  }
}

void main();
