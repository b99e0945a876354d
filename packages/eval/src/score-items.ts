// Scores generated outputs of one task: dispatches to the math, science and reading scorers, and
// for code items runs the hidden tests in the sandbox (batched: one child process per batch).
// Code items without hidden tests (real CodeAlpaca, whose answers are often prose or Python) are
// scored by exact match after whitespace normalisation, with token F1 as the softer number.
// Not the rules themselves (text-scorers.ts) nor the isolation (code-sandbox.ts).

import { runCodeCandidates, type SandboxLimits } from './code-sandbox.js';
import type { EvalItem, TaskKind } from './suite.js';
import { exactMatch, scoreMath, scoreScience, tokenF1 } from './text-scorers.js';

export interface ItemScore {
  correct: boolean;
  /** Token F1 (reading; code without tests). */
  f1?: number;
}

function normalizeWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export async function scoreOutputs(
  kind: TaskKind,
  items: readonly EvalItem[],
  outputs: readonly string[],
  sandbox: Partial<SandboxLimits> = {},
): Promise<ItemScore[]> {
  if (kind === 'math') return items.map((item, i) => ({ correct: scoreMath(outputs[i]!, item.gold) }));
  if (kind === 'science') return items.map((item, i) => ({ correct: scoreScience(outputs[i]!, item.gold) }));
  if (kind === 'reading') return items.map((item, i) => ({ correct: exactMatch(outputs[i]!, item.gold), f1: tokenF1(outputs[i]!, item.gold) }));
  const scores: ItemScore[] = items.map((item, i) =>
    item.tests ? { correct: false } : { correct: normalizeWhitespace(outputs[i]!) === normalizeWhitespace(item.gold), f1: tokenF1(outputs[i]!, item.gold) },
  );
  const tested = items.flatMap((item, i) => (item.tests && item.entryPoint ? [i] : []));
  if (tested.length > 0) {
    const passed = await runCodeCandidates(
      tested.map((i) => ({ code: outputs[i]!, entryPoint: items[i]!.entryPoint!, tests: items[i]!.tests! })),
      sandbox,
    );
    tested.forEach((itemIndex, j) => (scores[itemIndex] = { correct: passed[j]! }));
  }
  return scores;
}
