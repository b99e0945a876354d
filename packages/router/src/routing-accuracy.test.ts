// Routing accuracy on real text (the Done-when): hashing embedder, profiles from the
// training splits, paper strategy, top adapter = argmax weight, on the test prompts (no answer).
// Real data: /work/shared/datasets (outside the repo; skipped when absent). Synthetic data:
// fixtures/tiny-tle/data (skipped until it exists). Prints accuracy and the confusion matrix.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createHashingEmbedder } from './hashing-embedder.js';
import { readJsonlTexts } from './jsonl-texts.js';
import { createRouter } from './router.js';
import { buildProfile } from './task-profile.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DATASETS = process.env['LORA_TLE_DATASETS'] ?? resolve(REPO_ROOT, '../shared/datasets');
const TINY_DATA = join(REPO_ROOT, 'fixtures/tiny-tle/data');
/** Profiles average an evenly spaced subset of each training split, to keep the suite fast. */
const MAX_TRAIN_EXAMPLES = 1500;

interface Task {
  adapter: string;
  template: string;
  train: string;
  test: string;
}

const REAL_TASKS: Task[] = [
  { adapter: 'gsm8k', template: 'gsm8k', train: 'gsm8k/train.jsonl', test: 'gsm8k/test.jsonl' },
  { adapter: 'arc', template: 'arc', train: 'arc-challenge/train.jsonl', test: 'arc-challenge/test.jsonl' },
  { adapter: 'codealpaca', template: 'codealpaca', train: 'codealpaca/train.jsonl', test: 'codealpaca/test.jsonl' },
  { adapter: 'squad', template: 'squad', train: 'squad/train.jsonl', test: 'squad/test.jsonl' },
];
const TINY_TASKS: Task[] = [
  { adapter: 'math', template: 'gsm8k', train: 'math/train.jsonl', test: 'math/test.jsonl' },
  { adapter: 'science', template: 'arc', train: 'science/train.jsonl', test: 'science/test.jsonl' },
  { adapter: 'code', template: 'codealpaca', train: 'code/train.jsonl', test: 'code/test.jsonl' },
  { adapter: 'reading', template: 'squad', train: 'reading/train.jsonl', test: 'reading/test.jsonl' },
];

function evenlySpaced<T>(items: T[], most: number): T[] {
  if (items.length <= most) return items;
  return Array.from({ length: most }, (_, j) => items[Math.floor((j * items.length) / most)] as T);
}

async function measureRouting(root: string, tasks: Task[]) {
  const embedder = createHashingEmbedder();
  const profiles = [];
  for (const task of tasks) {
    const texts = evenlySpaced(await readJsonlTexts(join(root, task.train), task.template), MAX_TRAIN_EXAMPLES);
    profiles.push(await buildProfile({ adapter: task.adapter, embedder, texts }));
  }
  const router = createRouter({ embedder, profiles, strategy: 'paper', schedule: 'prompt' });
  const confusion = tasks.map(() => tasks.map(() => 0)); // [true task][routed adapter]
  for (const [truth, task] of tasks.entries()) {
    for (const prompt of await readJsonlTexts(join(root, task.test), task.template, { withAnswer: false })) {
      router.reset();
      const mix = await router.route({ text: prompt, tokenIds: [], step: 0 });
      const weights = Array.from(mix!.weights);
      confusion[truth]![weights.indexOf(Math.max(...weights))]! += 1;
    }
  }
  const total = confusion.flat().reduce((sum, count) => sum + count, 0);
  const correct = confusion.reduce((sum, row, i) => sum + row[i]!, 0);
  const names = tasks.map((task) => task.adapter);
  const table = [
    `routing accuracy ${(100 * correct / total).toFixed(2)}% (${correct}/${total}); rows = true task, columns = routed adapter`,
    ['', ...names].map((name) => name.padStart(11)).join(''),
    ...confusion.map((row, i) => [names[i]!, ...row.map(String)].map((cell) => cell.padStart(11)).join('') + `   ${(100 * row[i]! / row.reduce((a, b) => a + b, 0)).toFixed(1)}%`),
  ].join('\n');
  console.log(table);
  return { accuracy: correct / total, confusion };
}

const realPresent = REAL_TASKS.every((task) => existsSync(join(DATASETS, task.train)) && existsSync(join(DATASETS, task.test)));
const tinyPresent = TINY_TASKS.every((task) => existsSync(join(TINY_DATA, task.train)) && existsSync(join(TINY_DATA, task.test)));

describe('routing accuracy (hashing embedder, paper strategy, argmax)', () => {
  it.skipIf(!realPresent)(
    realPresent ? 'routes ≥ 95% of real gsm8k / ARC / CodeAlpaca / SQuAD test prompts to their own adapter' : `SKIPPED: real datasets not found at ${DATASETS} (set LORA_TLE_DATASETS)`,
    async () => {
      const { accuracy } = await measureRouting(DATASETS, REAL_TASKS);
      expect(accuracy).toBeGreaterThanOrEqual(0.95);
    },
  );

  it.skipIf(!tinyPresent)(
    tinyPresent ? 'routes ≥ 98% of tiny-tle test prompts to their own adapter' : `SKIPPED: ${TINY_DATA} does not exist yet (tiny-tle fixture data)`,
    async () => {
      const { accuracy } = await measureRouting(TINY_DATA, TINY_TASKS);
      expect(accuracy).toBeGreaterThanOrEqual(0.98);
    },
  );
});
