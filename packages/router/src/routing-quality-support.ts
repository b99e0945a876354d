// Test and bench helper (not exported): measures how well an embedder routes a task suite with a
// strategy — argmax accuracy at the prompt and the weight the strategy gives the right adapter, at
// the prompt and on prompt + answer prefixes (what token-level routing sees while it generates).
// Reads JSONL files (Node). Not the eval package's scorer: no model runs here.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Embedder } from '@lora-tle/spec';
import { formatPrompt, type PromptItem } from '@lora-tle/tokenizer';
import { fitHashingEmbedder } from './hashing-embedder.js';
import { createRouter } from './router.js';
import { buildProfile } from './task-profile.js';

export interface QualityTask {
  adapter: string;
  template: string;
  train: string; // JSONL path relative to the suite root
  test: string;
}

export const TINY_TLE_TASKS: QualityTask[] = [
  { adapter: 'math', template: 'gsm8k', train: 'math/train.jsonl', test: 'math/test.jsonl' },
  { adapter: 'science', template: 'arc', train: 'science/train.jsonl', test: 'science/test.jsonl' },
  { adapter: 'code', template: 'codealpaca', train: 'code/train.jsonl', test: 'code/test.jsonl' },
  { adapter: 'reading', template: 'squad', train: 'reading/train.jsonl', test: 'reading/test.jsonl' },
];

export const REAL_TASKS: QualityTask[] = [
  { adapter: 'gsm8k', template: 'gsm8k', train: 'gsm8k/train.jsonl', test: 'gsm8k/test.jsonl' },
  { adapter: 'arc', template: 'arc', train: 'arc-challenge/train.jsonl', test: 'arc-challenge/test.jsonl' },
  { adapter: 'codealpaca', template: 'codealpaca', train: 'codealpaca/train.jsonl', test: 'codealpaca/test.jsonl' },
  { adapter: 'squad', template: 'squad', train: 'squad/train.jsonl', test: 'squad/test.jsonl' },
];

/** Fractions of the gold answer appended to the prompt: 0 = the prompt, 1 = prompt + whole answer. */
export const ANSWER_FRACTIONS = [0, 0.25, 0.5, 0.75, 1] as const;

export function evenlySpaced<T>(items: readonly T[], most: number): T[] {
  if (items.length <= most) return [...items];
  return Array.from({ length: most }, (_, j) => items[Math.floor((j * items.length) / most)] as T);
}

async function readItems(path: string): Promise<PromptItem[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as PromptItem);
}

export interface SuiteTexts {
  train: Record<string, string[]>; // adapter → formatted training texts (prompt + answer)
  /** Per task, per test item: the context at each answer fraction (index 0 = the prompt alone). */
  contexts: string[][][];
}

export async function loadSuiteTexts(root: string, tasks: readonly QualityTask[], maxTrain = 1500, maxTest = 300): Promise<SuiteTexts> {
  const train: Record<string, string[]> = {};
  const contexts: string[][][] = [];
  for (const task of tasks) {
    train[task.adapter] = evenlySpaced(await readItems(join(root, task.train)), maxTrain).map((item) => formatPrompt(task.template, item, { withAnswer: true }));
    contexts.push(
      evenlySpaced(await readItems(join(root, task.test)), maxTest).map((item) => {
        const prompt = formatPrompt(task.template, item, { withAnswer: false });
        const answer = formatPrompt(task.template, item, { withAnswer: true }).slice(prompt.length);
        return ANSWER_FRACTIONS.map((fraction) => prompt + answer.slice(0, Math.round(answer.length * fraction)));
      }),
    );
  }
  return { train, contexts };
}

export interface TaskQuality {
  adapter: string;
  promptMean: number; // mean weight on the right adapter at the prompt
  promptMin: number;
  prefixMean: number; // over every answer fraction
  prefixMin: number;
}

export interface RoutingQuality {
  accuracy: number; // argmax at the prompt
  tasks: TaskQuality[];
  promptMean: number; // over all prompts
  prefixMean: number; // over all prompts × answer fractions
}

/** Profiles from `texts.train` with `embedder`, then the strategy's weights on every context. */
export async function measureRoutingQuality(embedder: Embedder, texts: SuiteTexts, strategy = 'paper'): Promise<RoutingQuality> {
  const adapters = Object.keys(texts.train);
  const profiles = [];
  for (const adapter of adapters) profiles.push(await buildProfile({ adapter, embedder, texts: texts.train[adapter] as string[] }));
  const router = createRouter({ embedder, profiles, strategy, schedule: 'token' });
  let correct = 0;
  let prompts = 0;
  const all = { prompt: [] as number[], prefix: [] as number[] };
  const tasks = await Promise.all(
    adapters.map(async (adapter, truth) => {
      const promptWeights: number[] = [];
      const prefixWeights: number[] = [];
      for (const item of texts.contexts[truth] as string[][]) {
        for (const [fraction, text] of item.entries()) {
          const weights = Array.from((await router.route({ text, tokenIds: [], step: fraction }))!.weights);
          prefixWeights.push(weights[truth] as number);
          if (fraction !== 0) continue;
          promptWeights.push(weights[truth] as number);
          prompts += 1;
          if (weights.indexOf(Math.max(...weights)) === truth) correct += 1;
        }
      }
      all.prompt.push(...promptWeights);
      all.prefix.push(...prefixWeights);
      return { adapter, promptMean: mean(promptWeights), promptMin: Math.min(...promptWeights), prefixMean: mean(prefixWeights), prefixMin: Math.min(...prefixWeights) };
    }),
  );
  return { accuracy: correct / prompts, tasks, promptMean: mean(all.prompt), prefixMean: mean(all.prefix) };
}

export function fitOnSuite(texts: SuiteTexts) {
  return fitHashingEmbedder(texts.train);
}

export function formatQuality(label: string, quality: RoutingQuality): string {
  const rows = quality.tasks.map(
    (task) =>
      `  ${task.adapter.padEnd(11)} prompt mean ${task.promptMean.toFixed(3)} min ${task.promptMin.toFixed(3)} | prompt+answer prefixes mean ${task.prefixMean.toFixed(3)} min ${task.prefixMin.toFixed(3)}`,
  );
  return [
    `${label}: argmax accuracy ${(100 * quality.accuracy).toFixed(1)}%, weight on the right adapter: prompts ${quality.promptMean.toFixed(3)}, prefixes ${quality.prefixMean.toFixed(3)}`,
    ...rows,
  ].join('\n');
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}
