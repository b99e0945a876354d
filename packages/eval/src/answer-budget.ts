// How many tokens an item may generate: the longest gold answer of the task (as it follows the
// prompt: " " + answer, plus EOS) and a slack of 8 tokens — the rule the fixture's REPORT.md used,
// so accuracies are comparable. Computed over all test items of a task, before any --limit.

import type { EvalTask } from './suite.js';

export const ANSWER_SLACK_TOKENS = 8;

/** `countTokens(text)` counts tokens without BOS/EOS; `cap` bounds the budget (long real answers). */
export function answerTokenBudget(task: EvalTask, countTokens: (text: string) => number, cap = Number.POSITIVE_INFINITY): number {
  let longest = 0;
  for (const item of task.items) longest = Math.max(longest, countTokens(` ${item.gold}`) + 1);
  return Math.max(1, Math.min(cap, longest + ANSWER_SLACK_TOKENS));
}
