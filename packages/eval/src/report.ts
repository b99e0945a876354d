// Aggregates per-item results into the task × mode table and renders it: JSON
// (`{ suite, results: [{ task, mode, kv, n, accuracy }] }` plus per-run averages), a markdown table
// and a plain terminal table. Rows are runs (mode + kv), columns are tasks then their average.
// Not the chart (svg-chart.ts) and not the loop that produces results (eval-runner.ts).

import type { KvPolicy } from '@lora-tle/engine';
import type { EvalRun } from './eval-plan.js';
import type { ItemResult } from './eval-runner.js';

export interface CellResult {
  task: string;
  mode: string;
  kv: KvPolicy;
  n: number;
  accuracy: number; // 0..1
  f1?: number; // mean token F1 where the task has it
}

export interface RunAverage {
  mode: string;
  kv: KvPolicy;
  /** Mean of the task accuracies (each task weighs the same), over the tasks this run has. */
  accuracy: number;
  tasks: number;
}

export interface EvalReport {
  suite: string;
  results: CellResult[];
  averages: RunAverage[];
}

/** Groups results by (task, mode, kv) in the order of `tasks` × `runs`; the last result per item wins. */
export function summarize(suite: string, tasks: readonly string[], runs: readonly EvalRun[], results: readonly ItemResult[]): EvalReport {
  const latest = new Map<string, ItemResult>();
  for (const result of results) latest.set(`${result.task}\u0000${result.mode}\u0000${result.kv}\u0000${result.id}`, result);
  const cells: CellResult[] = [];
  for (const task of tasks) {
    for (const run of runs) {
      const items = [...latest.values()].filter((result) => result.task === task && result.mode === run.mode && result.kv === run.kv);
      if (items.length === 0) continue;
      const cell: CellResult = { task, mode: run.mode, kv: run.kv, n: items.length, accuracy: items.filter((item) => item.correct).length / items.length };
      const withF1 = items.filter((item) => item.f1 !== undefined);
      if (withF1.length === items.length) cell.f1 = withF1.reduce((sum, item) => sum + item.f1!, 0) / items.length;
      cells.push(cell);
    }
  }
  const averages: RunAverage[] = [];
  for (const run of runs) {
    const own = cells.filter((cell) => cell.mode === run.mode && cell.kv === run.kv);
    if (own.length === 0) continue;
    averages.push({ mode: run.mode, kv: run.kv, accuracy: own.reduce((sum, cell) => sum + cell.accuracy, 0) / own.length, tasks: own.length });
  }
  return { suite, results: cells, averages };
}

// ---- rendering ----

function percent(value: number | undefined): string {
  return value === undefined ? '—' : `${(100 * value).toFixed(1)}`;
}

/** Row label of a run: `token (reuse)`; constant-mixture modes need no kv. */
export function runLabel(run: { mode: string; kv: KvPolicy }, kvMatters: boolean): string {
  return kvMatters ? `${run.mode} (${run.kv})` : run.mode;
}

interface TableShape {
  header: string[];
  rows: string[][];
}

function tableShape(report: EvalReport): TableShape {
  const tasks = [...new Set(report.results.map((cell) => cell.task))];
  const hasF1 = (task: string) => report.results.some((cell) => cell.task === task && cell.f1 !== undefined);
  const header = ['mode', ...tasks.flatMap((task) => (hasF1(task) ? [task, `${task} F1`] : [task])), 'average', 'n'];
  const modesWithBothKv = new Set(report.averages.filter((a) => a.kv === 'recompute').map((a) => a.mode));
  const rows = report.averages.map((average) => {
    const cells = tasks.flatMap((task) => {
      const cell = report.results.find((c) => c.task === task && c.mode === average.mode && c.kv === average.kv);
      return hasF1(task) ? [percent(cell?.accuracy), percent(cell?.f1)] : [percent(cell?.accuracy)];
    });
    const counts = [...new Set(report.results.filter((c) => c.mode === average.mode && c.kv === average.kv).map((c) => c.n))];
    return [runLabel(average, modesWithBothKv.has(average.mode)), ...cells, percent(average.accuracy), counts.join('/')];
  });
  return { header, rows };
}

export function renderMarkdown(report: EvalReport): string {
  const { header, rows } = tableShape(report);
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

export function renderTable(report: EvalReport): string {
  const { header, rows } = tableShape(report);
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return `${[line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n')}\n`;
}

/** The JSON form: accuracy as a fraction in [0, 1], rounded to 4 decimals. */
export function renderJson(report: EvalReport): string {
  const round = (value: number) => Math.round(value * 1e4) / 1e4;
  return `${JSON.stringify(
    {
      suite: report.suite,
      results: report.results.map((cell) => ({ ...cell, accuracy: round(cell.accuracy), ...(cell.f1 === undefined ? {} : { f1: round(cell.f1) }) })),
      averages: report.averages.map((average) => ({ ...average, accuracy: round(average.accuracy) })),
    },
    null,
    2,
  )}\n`;
}
