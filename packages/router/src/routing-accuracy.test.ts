// Routing quality on task text (the Done-when): the hashing embedder fitted on the
// training splits (fitHashingEmbedder), profiles from the same texts, paper strategy. Asserts argmax
// accuracy on the test prompts and — tiny-tle — the weight on the right adapter at the prompt and on
// prompt + gold-answer prefixes (what token-level routing re-embeds while generating).
// Real data: /work/shared/datasets (outside the repo; skipped when absent). Prints per-task numbers.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fitOnSuite, formatQuality, loadSuiteTexts, measureRoutingQuality, REAL_TASKS, TINY_TLE_TASKS, type QualityTask } from './routing-quality-support.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DATASETS = process.env['LORA_TLE_DATASETS'] ?? resolve(REPO_ROOT, '../shared/datasets');
const TINY_DATA = join(REPO_ROOT, 'fixtures/tiny-tle/data');

const present = (root: string, tasks: QualityTask[]) => tasks.every((task) => existsSync(join(root, task.train)) && existsSync(join(root, task.test)));
const realPresent = present(DATASETS, REAL_TASKS);
const tinyPresent = present(TINY_DATA, TINY_TLE_TASKS);

describe('routing quality (fitted hashing embedder, paper strategy)', () => {
  it.skipIf(!tinyPresent)(
    tinyPresent ? 'tiny-tle: ≥ 98% argmax, ≥ 0.85 mean weight on the right adapter at prompts and answer prefixes' : `SKIPPED: ${TINY_DATA} does not exist (tiny-tle fixture data)`,
    async () => {
      const texts = await loadSuiteTexts(TINY_DATA, TINY_TLE_TASKS);
      const quality = await measureRoutingQuality(fitOnSuite(texts), texts);
      console.log(formatQuality('tiny-tle, fitted hashing, paper', quality));
      expect(quality.accuracy).toBeGreaterThanOrEqual(0.98);
      expect(quality.promptMean).toBeGreaterThanOrEqual(0.85);
      expect(quality.prefixMean).toBeGreaterThanOrEqual(0.85);
      for (const task of quality.tasks) {
        expect(task.promptMean, task.adapter).toBeGreaterThanOrEqual(0.85);
        expect(task.prefixMean, task.adapter).toBeGreaterThanOrEqual(0.85);
        expect(task.prefixMin, task.adapter).toBeGreaterThan(0.75); // every context, not only the average, is dominated by its adapter
      }
    },
    60_000,
  );

  it.skipIf(!realPresent)(
    realPresent ? 'real gsm8k / ARC / CodeAlpaca / SQuAD: ≥ 95% argmax at the test prompts' : `SKIPPED: real datasets not found at ${DATASETS} (set LORA_TLE_DATASETS)`,
    async () => {
      const texts = await loadSuiteTexts(DATASETS, REAL_TASKS);
      const quality = await measureRoutingQuality(fitOnSuite(texts), texts);
      console.log(formatQuality('real datasets, fitted hashing, paper', quality));
      expect(quality.accuracy).toBeGreaterThanOrEqual(0.95);
      expect(quality.prefixMean).toBeGreaterThanOrEqual(0.75); // unfitted: 0.54
    },
    120_000,
  );
});
