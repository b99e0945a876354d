// What an evaluation suite is: tasks of one of four kinds (math, science, code, reading — the four
// tasks of the original LoRA-TLE project), each with its prompt template, its test items and
// optionally its training items (the routing profiles are built from them). Plain data plus the
// checks that make an item scorable. Not file loading (suite-files.ts) and not scoring (scorers).

import { LoraTleError } from '@lora-tle/spec';
import { formatPrompt, type PromptItem } from '@lora-tle/tokenizer';

export const TASK_KINDS = ['math', 'science', 'code', 'reading'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** The prompt template each kind was trained on (the original project's formats). */
export const TEMPLATE_OF_KIND: Readonly<Record<TaskKind, string>> = Object.freeze({
  math: 'gsm8k',
  science: 'arc',
  code: 'codealpaca',
  reading: 'squad',
});

/** A hidden test of a code item: the entry point called with `args` must return `expected`. */
export interface CodeTest {
  args: unknown;
  expected: unknown;
}

export interface EvalItem {
  id: string;
  prompt: string; // the generation prompt, ending in "Answer:"
  /** The gold answer as the scorer reads it: the worked solution (math), a letter, a span, code. */
  gold: string;
  /** Code items: the function name to call and the hidden tests (absent for CodeAlpaca text items). */
  entryPoint?: string;
  tests?: CodeTest[];
}

export interface EvalTask {
  name: string; // 'math' (tiny-tle) or 'gsm8k' (real data)
  kind: TaskKind;
  template: string;
  items: EvalItem[];
  /** Formatted training texts (prompt + answer) for the routing profile; may be empty. */
  trainTexts: string[];
}

export interface EvalSuite {
  name: string; // 'tiny-tle', or the name of the --data directory
  tasks: EvalTask[];
}

function stringField(task: string, index: number, raw: PromptItem, field: string): string {
  const value = raw[field];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new LoraTleError('E_SUITE', `${task} test item ${index + 1} has no text field "${field}"; fields present: ${Object.keys(raw).join(', ') || '(none)'}`);
}

/** The gold answer field per kind (SQuAD's `answers.text[0]` is accepted too). */
function goldOf(kind: TaskKind, task: string, index: number, raw: PromptItem): string {
  if (kind === 'math') return stringField(task, index, raw, 'answer');
  if (kind === 'science') return stringField(task, index, raw, 'answerKey');
  if (kind === 'code') return stringField(task, index, raw, 'output');
  const answers = raw['answers'] as { text?: unknown } | undefined;
  if (raw['answer'] === undefined && Array.isArray(answers?.text) && typeof answers.text[0] === 'string') return answers.text[0];
  return stringField(task, index, raw, 'answer');
}

/** Turns one raw JSONL object into an EvalItem of `kind` (prompt formatted with the kind's template). */
export function toEvalItem(kind: TaskKind, task: string, index: number, raw: PromptItem): EvalItem {
  const id = typeof raw['id'] === 'string' || typeof raw['id'] === 'number' ? String(raw['id']) : `${task}-${index}`;
  const item: EvalItem = { id, prompt: formatPrompt(TEMPLATE_OF_KIND[kind], raw), gold: goldOf(kind, task, index, raw) };
  if (kind === 'code' && raw['tests'] !== undefined) {
    const tests = raw['tests'];
    const entryPoint = raw['entryPoint'];
    if (!Array.isArray(tests) || typeof entryPoint !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(entryPoint)) {
      throw new LoraTleError('E_SUITE', `${task} test item ${index + 1}: "tests" needs an "entryPoint" (a JavaScript identifier) and a list of {args, expected}`);
    }
    item.entryPoint = entryPoint;
    item.tests = tests.map((test: unknown) => {
      const { args, expected } = (test ?? {}) as { args?: unknown; expected?: unknown };
      return { args, expected };
    });
  }
  return item;
}

/** Keeps the first `limit` items of every task (a quick run); undefined keeps all. */
export function limitSuite(suite: EvalSuite, limit: number | undefined): EvalSuite {
  if (limit === undefined) return suite;
  if (!Number.isInteger(limit) || limit < 1) throw new LoraTleError('E_INVALID_ARGUMENT', `limit must be a whole number ≥ 1, got ${limit}`);
  return { ...suite, tasks: suite.tasks.map((task) => ({ ...task, items: task.items.slice(0, limit) })) };
}
