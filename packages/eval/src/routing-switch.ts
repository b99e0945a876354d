// Task switches without generation: an answered item of one task (its prompt and gold answer, as a
// training text reads) followed by the prompt of another task, routed token by token over that
// second prompt — what token-level routing sees when a conversation's next turn changes task. Per
// ordered pair of tasks: how often the second task's own adapter has the largest weight at the end
// of its prompt, and after how many of its tokens it took the lead for good. The context the router
// sees is built as the engine builds it (decode-loop.ts): the whole text, or with a window the
// decoded last W token ids. Not routing accuracy on single prompts (routing-accuracy.ts).

import { argmax } from '@lora-tle/engine';
import { createRouter } from '@lora-tle/router';
import { LoraTleError, type Embedder, type RoutingStrategy, type TaskProfile } from '@lora-tle/spec';
import type { EvalSuite } from './suite.js';
import { median } from './order-statistics.js';
import { ownAdapterIndices } from './suite-profiles.js';

/** The model tokenizer, both ways: token boundaries of the second prompt, and the window's text. */
export interface RoutingTokenizer {
  encode(text: string): ArrayLike<number>;
  decode(ids: readonly number[]): string;
}

export interface SwitchPair {
  from: string; // the answered item's task
  to: string; // the task of the prompt that follows
  n: number;
  /** Fraction of the n whose `to` adapter has the largest weight after the last token of the prompt. */
  switched: number;
  /** Median, over the switched ones, of the prompt tokens routed until the lead was taken for good; null if none switched. */
  medianTokens: number | null;
  /** Mean weight of the `to` adapter after the last token of the prompt. */
  meanFinalWeight: number;
  /** Median length of the `to` prompts in tokens. */
  medianPromptTokens: number;
}

export interface RoutingSwitch {
  suite: string;
  window: number | null;
  tasks: string[];
  pairs: SwitchPair[]; // from-major, every ordered pair of different tasks
  switched: number; // over all pairs' items
  medianTokens: number | null; // over all switched items
}

export interface RoutingSwitchOptions {
  suite: EvalSuite;
  profiles: readonly TaskProfile[]; // one per adapter
  embedder: Embedder;
  strategy: RoutingStrategy | string;
  tokenizer: RoutingTokenizer;
  /** The router sees only the last W tokens (as generate --window); default: the whole text. */
  window?: number;
  /** Items per ordered pair: item i of one task before item i of the other (default: all). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

const medianOrNull = (values: readonly number[]): number | null => (values.length === 0 ? null : median(values));

/**
 * What the router sees of `tokenIds` through a window of W tokens, as the engine builds it
 * (decode-loop.ts): the decoded last W ids, and those ids.
 */
export function windowedContext(tokenIds: readonly number[], window: number, tokenizer: RoutingTokenizer, step: number) {
  const windowed = tokenIds.slice(Math.max(0, tokenIds.length - window));
  return { text: tokenizer.decode(windowed), tokenIds: windowed, step };
}

export async function measureRoutingSwitch(options: RoutingSwitchOptions): Promise<RoutingSwitch> {
  const { suite, profiles, embedder, strategy, tokenizer, window, limit, onProgress } = options;
  if (suite.tasks.length < 2) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `a task switch needs two tasks, the suite has ${suite.tasks.map((task) => task.name).join(', ') || 'none'}; select two or more (--tasks)`);
  }
  const adapters = profiles.map((profile) => profile.adapter);
  const ownAdapter = ownAdapterIndices(suite.tasks, adapters);
  const router = createRouter({ embedder, profiles, adapters, strategy, schedule: 'token' });
  const pairCount = (a: number, b: number) => Math.min(suite.tasks[a]!.items.length, suite.tasks[b]!.items.length, limit ?? Number.POSITIVE_INFINITY);
  const pairsOf = suite.tasks.flatMap((_, a) => suite.tasks.flatMap((__, b) => (a === b ? [] : [[a, b] as const])));
  const total = pairsOf.reduce((sum, [a, b]) => sum + pairCount(a, b), 0);
  let done = 0;
  const pairs: SwitchPair[] = [];
  const allLeads: number[] = [];
  let allSwitched = 0;
  try {
    for (const [a, b] of pairsOf) {
      const from = suite.tasks[a]!;
      const to = suite.tasks[b]!;
      const target = ownAdapter[b]!;
      const leads: number[] = [];
      const promptTokens: number[] = [];
      let finalWeight = 0;
      const n = pairCount(a, b);
      for (let i = 0; i < n; i++) {
        const answered = `${from.items[i]!.prompt} ${from.items[i]!.gold}\n\n`;
        const before = Array.from(tokenizer.encode(answered));
        const prompt = Array.from(tokenizer.encode(to.items[i]!.prompt));
        promptTokens.push(prompt.length);
        router.reset();
        let leadFrom = -1; // first k from which the target has led at every k after
        let weight = 0;
        for (let k = 1; k <= prompt.length; k++) {
          const tokenIds = [...before, ...prompt.slice(0, k)];
          const request = window === undefined ? { text: answered + tokenizer.decode(prompt.slice(0, k)), tokenIds, step: k } : windowedContext(tokenIds, window, tokenizer, k);
          const mix = await router.route(request);
          const weights = mix!.weights;
          if (argmax(weights) === target) {
            if (leadFrom < 0) leadFrom = k;
          } else {
            leadFrom = -1;
          }
          weight = weights[target]!;
        }
        finalWeight += weight;
        if (leadFrom > 0) leads.push(leadFrom);
        done += 1;
        if (done % 20 === 0 || done === total) onProgress?.(done, total);
      }
      allSwitched += leads.length;
      allLeads.push(...leads);
      pairs.push({
        from: from.name,
        to: to.name,
        n,
        switched: n === 0 ? 0 : leads.length / n,
        medianTokens: medianOrNull(leads),
        meanFinalWeight: n === 0 ? 0 : finalWeight / n,
        medianPromptTokens: medianOrNull(promptTokens) ?? 0,
      });
    }
  } finally {
    await router.dispose(); // with the hidden embedder it holds a KV cache
  }
  return {
    suite: suite.name,
    window: window ?? null,
    tasks: suite.tasks.map((task) => task.name),
    pairs,
    switched: total === 0 ? 0 : allSwitched / total,
    medianTokens: medianOrNull(allLeads),
  };
}

export function renderSwitchTable(result: RoutingSwitch): string {
  const cell = (pair: SwitchPair | undefined) =>
    pair === undefined ? '—' : `${(100 * pair.switched).toFixed(0)}% · ${pair.medianTokens === null ? '—' : pair.medianTokens}/${pair.medianPromptTokens}`;
  const rows = result.tasks.map((from) => [from, ...result.tasks.map((to) => cell(result.pairs.find((pair) => pair.from === from && pair.to === to)))]);
  const width = Math.max(10, ...rows.flat().map((text) => text.length + 2));
  const lines = [
    `task switches on ${result.suite}, ${result.window === null ? 'whole context' : `window ${result.window} tokens`}: an answered item of the row's task, then the column's prompt routed token by token`,
    'cell = routed to the column\'s adapter at the end of its prompt · median tokens until it led for good / median prompt tokens',
    ['', ...result.tasks].map((text) => text.padStart(width)).join(''),
    ...rows.map((row) => row.map((text) => text.padStart(width)).join('')),
    `all pairs: ${(100 * result.switched).toFixed(1)}% switched; median ${result.medianTokens === null ? '—' : result.medianTokens} tokens`,
  ];
  return `${lines.join('\n')}\n`;
}
