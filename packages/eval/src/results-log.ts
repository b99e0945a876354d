// The per-item results log: one JSON line per scored item in `<out>/results.jsonl`, appended as each
// batch finishes (synchronously, so a crash loses at most the batch in flight), and `run.json` with
// what the run was (suite, pack, embedder, strategy). `--resume` reads the log back, tolerating a
// torn last line, and refuses to mix results of a different setup. Node only (lazy node:fs).
// Not the aggregation (report.ts).

import { LoraTleError } from '@lora-tle/spec';
import type { ItemResult } from './eval-runner.js';

export const RESULTS_FILE = 'results.jsonl';
export const RUN_FILE = 'run.json';

/** What must match for results to be resumed together. */
export type RunIdentity = Record<string, string | number | boolean | null>;

export interface ResultsLog {
  /** Results read back from a previous run (empty for a fresh one). */
  readonly previous: readonly ItemResult[];
  append(result: ItemResult): void;
}

function isItemResult(value: unknown): value is ItemResult {
  const record = value as Partial<ItemResult> | null;
  return (
    typeof record === 'object' && record !== null &&
    typeof record.task === 'string' && typeof record.mode === 'string' && typeof record.kv === 'string' &&
    typeof record.id === 'string' && typeof record.correct === 'boolean'
  );
}

/** Parses a results log; a torn or foreign line (an interrupted write) is skipped, not fatal. */
export function parseResultsLog(text: string): ItemResult[] {
  const results: ItemResult[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (isItemResult(value)) results.push(value);
    } catch {
      // a line cut short by an interruption: that item is simply run again
    }
  }
  return results;
}

/**
 * Opens `<outDir>` for results. Fresh (resume false): the directory must not hold results yet.
 * Resume: reads the log and checks that run.json describes the same setup.
 */
export async function openResultsLog(outDir: string, identity: RunIdentity, resume: boolean): Promise<ResultsLog> {
  const { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const resultsPath = join(outDir, RESULTS_FILE);
  const runPath = join(outDir, RUN_FILE);
  mkdirSync(outDir, { recursive: true });
  let previous: ItemResult[] = [];
  const hasResults = existsSync(resultsPath) && readFileSync(resultsPath, 'utf8').trim() !== '';
  if (hasResults && !resume) {
    throw new LoraTleError('E_OUTPUT_EXISTS', `${resultsPath} already holds results; pass --resume to continue that run, or choose another --out directory`);
  }
  if (resume && existsSync(runPath)) {
    let recorded: RunIdentity;
    try {
      recorded = JSON.parse(readFileSync(runPath, 'utf8')) as RunIdentity;
    } catch (cause) {
      throw new LoraTleError('E_JSON', `${runPath} is not valid JSON; remove the directory to start over`, { cause });
    }
    const shown = (value: unknown) => JSON.stringify(value) ?? 'unset'; // a setting absent from one run (e.g. no --window)
    const differences = Object.keys({ ...recorded, ...identity }).filter((key) => shown(recorded[key]) !== shown(identity[key]));
    if (differences.length > 0) {
      throw new LoraTleError(
        'E_INVALID_ARGUMENT',
        `cannot resume ${outDir}: it was run with other settings (${differences.map((key) => `${key}: ${shown(recorded[key])} → ${shown(identity[key])}`).join('; ')}); use the same settings or another --out`,
      );
    }
  }
  if (resume && hasResults) previous = parseResultsLog(readFileSync(resultsPath, 'utf8'));
  writeFileSync(runPath, `${JSON.stringify(identity, null, 2)}\n`);
  return {
    previous,
    append(result) {
      appendFileSync(resultsPath, `${JSON.stringify(result)}\n`);
    },
  };
}
