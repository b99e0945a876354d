// Routing accuracy without generation: route every test prompt once (the prompt-level decision) and
// count how often the adapter with the largest weight is the task's own adapter; the confusion
// matrix has rows = true task, columns = routed adapter. Profiles come from the training splits
// (suite-profiles.ts). With a window, each prompt is routed on its last W tokens, as the engine routes
// its first step. Not the generation eval (eval-runner.ts), not task switches (routing-switch.ts).

import { createRouter } from '@lora-tle/router';
import type { Embedder, RoutingStrategy, TaskProfile } from '@lora-tle/spec';
import type { EvalSuite } from './suite.js';
import { windowedContext, type RoutingTokenizer } from './routing-switch.js';
import { ownAdapterIndices } from './suite-profiles.js';

export interface RoutingAccuracy {
  suite: string;
  tasks: string[]; // rows
  adapters: string[]; // columns
  /** confusion[task][adapter]: prompts of the task routed to the adapter. */
  confusion: number[][];
  accuracy: number; // correct / all prompts
  perTask: { task: string; adapter: string; n: number; accuracy: number }[];
}

export interface RoutingAccuracyOptions {
  suite: EvalSuite;
  profiles: readonly TaskProfile[]; // one per adapter
  embedder: Embedder;
  strategy: RoutingStrategy | string;
  /** Route on the last W tokens of each prompt only (as generate --window), counted by `tokenizer`. */
  window?: { tokens: number; tokenizer: RoutingTokenizer };
  onProgress?: (done: number, total: number) => void;
}

export async function measureRoutingAccuracy({ suite, profiles, embedder, strategy, window, onProgress }: RoutingAccuracyOptions): Promise<RoutingAccuracy> {
  const adapters = profiles.map((profile) => profile.adapter);
  const router = createRouter({ embedder, profiles, adapters, strategy, schedule: 'prompt' });
  const ownAdapter = ownAdapterIndices(suite.tasks, adapters);
  const confusion = suite.tasks.map(() => adapters.map(() => 0));
  const total = suite.tasks.reduce((sum, task) => sum + task.items.length, 0);
  let done = 0;
  try {
    for (const [t, task] of suite.tasks.entries()) {
      for (const item of task.items) {
        router.reset();
        const mix = await router.route(window === undefined ? { text: item.prompt, tokenIds: [], step: 0 } : windowedContext(Array.from(window.tokenizer.encode(item.prompt)), window.tokens, window.tokenizer, 0));
        let best = 0;
        mix!.weights.forEach((weight, i) => {
          if (weight > mix!.weights[best]!) best = i;
        });
        confusion[t]![best]! += 1;
        done += 1;
        if (done % 100 === 0 || done === total) onProgress?.(done, total);
      }
    }
  } finally {
    await router.dispose(); // with the hidden embedder it holds a KV cache
  }
  const perTask = suite.tasks.map((task, t) => {
    const row = confusion[t]!;
    const n = row.reduce((sum, count) => sum + count, 0);
    return { task: task.name, adapter: adapters[ownAdapter[t]!]!, n, accuracy: n === 0 ? 0 : row[ownAdapter[t]!]! / n };
  });
  const correct = suite.tasks.reduce((sum, _, t) => sum + confusion[t]![ownAdapter[t]!]!, 0);
  return { suite: suite.name, tasks: suite.tasks.map((task) => task.name), adapters, confusion, accuracy: total === 0 ? 0 : correct / total, perTask };
}

export function renderRoutingTable(result: RoutingAccuracy): string {
  const width = Math.max(10, ...result.tasks.map((task) => task.length + 1), ...result.adapters.map((adapter) => adapter.length + 1));
  const lines = [
    `routing accuracy ${(100 * result.accuracy).toFixed(2)}% on ${result.suite}; rows = true task, columns = routed adapter`,
    ['', ...result.adapters, 'accuracy'].map((cell) => cell.padStart(width)).join(''),
    ...result.confusion.map((row, t) =>
      [result.tasks[t]!, ...row.map(String), `${(100 * result.perTask[t]!.accuracy).toFixed(1)}%`].map((cell) => cell.padStart(width)).join(''),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
