// The evaluation loop: for every task and every (mode, kv) run, generate greedily for the task's
// test items in batches through the engine, score the batch, and hand each item's result to
// `onResult` as soon as its batch is scored (the caller appends it to a JSONL log, so an interrupted
// run keeps what it finished). Items whose key is in `done` are skipped (resume).
// Not the report (report.ts) and not a backend: the engine comes in ready, with its router.

import type { Engine, GenerateRequest, KvPolicy } from '@lora-tle/engine';
import { LoraTleError } from '@lora-tle/spec';
import type { SandboxLimits } from './code-sandbox.js';
import type { EvalRun } from './eval-plan.js';
import { scoreOutputs } from './score-items.js';
import type { EvalItem, EvalSuite, EvalTask } from './suite.js';

/** One scored generation: what the JSONL log holds per line. */
export interface ItemResult {
  task: string;
  mode: string;
  kv: KvPolicy;
  id: string;
  correct: boolean;
  f1?: number;
  output: string;
  tokens: number; // generated tokens (EOS excluded)
  ms: number; // generation time of the batch, shared out per item
}

export interface EvalRunnerOptions {
  engine: Engine;
  suite: EvalSuite;
  runs: readonly EvalRun[];
  /** Generation budget per task (tokens). */
  maxNewTokens: (task: EvalTask) => number;
  /** Prompts per engine batch (default 8). Rows of a batch share the KV policy and the mode. */
  batchSize?: number;
  /** Keys (resultKey) of items already done: skipped. */
  done?: ReadonlySet<string>;
  onResult: (result: ItemResult) => void | Promise<void>;
  /** Called after every batch with items finished (skipped ones included) out of all. */
  onProgress?: (done: number, total: number) => void;
  /** Called when a (task, mode, kv) cell is complete. */
  onCell?: (cell: { task: string; mode: string; kv: KvPolicy; n: number; accuracy: number }) => void;
  sandbox?: Partial<SandboxLimits>;
  /** A prompt longer than the model context: 'left' (default) keeps its end, 'none' stops with E_CONTEXT_OVERFLOW. */
  truncate?: 'left' | 'none';
  /** Routed modes see only the last W tokens of the context (GenerateRequest.routingWindow); default: all of it. */
  routingWindow?: number;
  signal?: AbortSignal;
}

export function resultKey(result: Pick<ItemResult, 'task' | 'mode' | 'kv' | 'id'>): string {
  return `${result.task}\u0000${result.mode}\u0000${result.kv}\u0000${result.id}`;
}

/** Total item generations the runs will perform (skipped ones included). */
export function plannedItems(suite: EvalSuite, runs: readonly EvalRun[]): number {
  return suite.tasks.reduce((sum, task) => sum + task.items.length, 0) * runs.length;
}

type BatchSettings = Required<Pick<GenerateRequest, 'maxNewTokens' | 'truncate'>> & Pick<GenerateRequest, 'routingWindow'>;

async function generateBatch(engine: Engine, items: readonly EvalItem[], run: EvalRun, settings: BatchSettings, signal?: AbortSignal) {
  const requests: GenerateRequest[] = items.map((item) => ({ prompt: item.prompt, mode: run.mode, kv: run.kv, sampling: { temperature: 0 }, ...settings }));
  const outputs = new Array<string>(items.length).fill('');
  const tokens = new Array<number>(items.length).fill(0);
  const started = performance.now();
  for await (const event of engine.generateBatch(requests, { signal })) {
    if (event.type !== 'done') continue;
    if (event.finishReason === 'aborted') throw new LoraTleError('E_ABORTED', 'evaluation was interrupted; rerun with --resume to continue');
    outputs[event.row] = (event.text + event.tail).trim();
    tokens[event.row] = event.tokenIds.length;
  }
  return { outputs, tokens, ms: performance.now() - started };
}

export async function runEvaluation(options: EvalRunnerOptions): Promise<void> {
  const { engine, suite, runs, onResult, signal } = options;
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new LoraTleError('E_INVALID_ARGUMENT', `batch size must be a whole number ≥ 1, got ${batchSize}`);
  const done = options.done ?? new Set<string>();
  const total = plannedItems(suite, runs);
  let finished = 0;
  for (const task of suite.tasks) {
    const budget = options.maxNewTokens(task);
    for (const run of runs) {
      let correct = 0;
      let counted = 0;
      const pending = task.items.filter((item) => !done.has(resultKey({ task: task.name, ...run, id: item.id })));
      finished += task.items.length - pending.length;
      options.onProgress?.(finished, total);
      for (let start = 0; start < pending.length; start += batchSize) {
        if (signal?.aborted) throw new LoraTleError('E_ABORTED', 'evaluation was interrupted; rerun with --resume to continue');
        const batch = pending.slice(start, start + batchSize);
        const settings: BatchSettings = { maxNewTokens: budget, truncate: options.truncate ?? 'left', ...(options.routingWindow === undefined ? {} : { routingWindow: options.routingWindow }) };
        const generated = await generateBatch(engine, batch, run, settings, signal);
        const scores = await scoreOutputs(task.kind, batch, generated.outputs, options.sandbox);
        for (const [i, item] of batch.entries()) {
          const score = scores[i]!;
          const result: ItemResult = {
            task: task.name,
            mode: run.mode,
            kv: run.kv,
            id: item.id,
            correct: score.correct,
            ...(score.f1 === undefined ? {} : { f1: score.f1 }),
            output: generated.outputs[i]!,
            tokens: generated.tokens[i]!,
            ms: generated.ms / batch.length,
          };
          await onResult(result);
          counted += 1;
          if (score.correct) correct += 1;
        }
        finished += batch.length;
        options.onProgress?.(finished, total);
      }
      if (counted > 0) options.onCell?.({ task: task.name, mode: run.mode, kv: run.kv, n: counted, accuracy: correct / counted });
    }
  }
}
