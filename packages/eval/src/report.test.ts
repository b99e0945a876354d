// Aggregation and rendering of results: counts per cell, equal-weight averages, the JSON shape the
// CLI promises, the markdown table, the SVG chart (well-formed, one bar per value), and the
// results log (torn last line tolerated, fresh runs refuse a used directory, resume checks setup).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ItemResult } from './eval-runner.js';
import { renderJson, renderMarkdown, renderTable, summarize } from './report.js';
import { openResultsLog, parseResultsLog } from './results-log.js';
import { renderSvgChart } from './svg-chart.js';

const item = (task: string, mode: string, kv: 'reuse' | 'recompute', id: string, correct: boolean, f1?: number): ItemResult => ({
  task, mode, kv, id, correct, ...(f1 === undefined ? {} : { f1 }), output: '', tokens: 1, ms: 1,
});

const results: ItemResult[] = [
  item('math', 'base', 'reuse', '1', false), item('math', 'base', 'reuse', '2', true),
  item('reading', 'base', 'reuse', '1', true, 1), item('reading', 'base', 'reuse', '2', false, 0.5),
  item('math', 'token', 'reuse', '1', true), item('math', 'token', 'reuse', '2', true),
  item('math', 'token', 'recompute', '1', true), item('math', 'token', 'recompute', '2', false),
  item('math', 'token', 'recompute', '2', true), // a rerun of the same item: the last one wins
  item('reading', 'token', 'reuse', '1', true, 1), item('reading', 'token', 'reuse', '2', true, 1),
];
const runs = [{ mode: 'base', kv: 'reuse' as const }, { mode: 'token', kv: 'reuse' as const }, { mode: 'token', kv: 'recompute' as const }];

describe('summarize and render', () => {
  const report = summarize('demo', ['math', 'reading'], runs, results);
  it('aggregates per cell and averages tasks with equal weight', () => {
    expect(report.results.map((c) => [c.task, c.mode, c.kv, c.n, c.accuracy])).toEqual([
      ['math', 'base', 'reuse', 2, 0.5], ['math', 'token', 'reuse', 2, 1], ['math', 'token', 'recompute', 2, 1],
      ['reading', 'base', 'reuse', 2, 0.5], ['reading', 'token', 'reuse', 2, 1],
    ]);
    expect(report.results.find((c) => c.task === 'reading' && c.mode === 'base')!.f1).toBe(0.75);
    expect(report.averages.map((a) => [a.mode, a.kv, a.accuracy, a.tasks])).toEqual([['base', 'reuse', 0.5, 2], ['token', 'reuse', 1, 2], ['token', 'recompute', 1, 1]]);
  });
  it('renders JSON, markdown and a terminal table', () => {
    const json = JSON.parse(renderJson(report)) as { suite: string; results: Record<string, unknown>[] };
    expect(json.suite).toBe('demo');
    expect(json.results[0]).toEqual({ task: 'math', mode: 'base', kv: 'reuse', n: 2, accuracy: 0.5 });
    const markdown = renderMarkdown(report).split('\n');
    expect(markdown[0]).toBe('| mode | math | reading | reading F1 | average | n |');
    expect(markdown[2]).toBe('| base | 50.0 | 50.0 | 75.0 | 50.0 | 2 |');
    expect(markdown[3]).toBe('| token (reuse) | 100.0 | 100.0 | 100.0 | 100.0 | 2 |');
    expect(markdown[4]).toBe('| token (recompute) | 100.0 | — | — | 100.0 | 2 |');
    expect(renderTable(report).split('\n')[0]).toMatch(/^mode\s+math\s+reading/);
  });
  it('draws one bar per (group, run) value in well-formed SVG', () => {
    const svg = renderSvgChart(report);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // bars: 5 task cells + 3 averages; legend: 3 swatches; background: 1
    expect((svg.match(/<rect /g) ?? []).length).toBe(5 + 3 + 3 + 1);
    expect(svg).toContain('<title>math · token (recompute): 100.0%</title>');
  });
});

describe('results log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-tle-eval-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('appends, refuses to overwrite, resumes only the same setup, tolerates a torn line', async () => {
    const out = join(dir, 'run');
    const log = await openResultsLog(out, { suite: 'demo', strategy: 'paper' }, false);
    log.append(results[0]!);
    log.append(results[1]!);
    writeFileSync(join(out, 'results.jsonl'), `${readFileSync(join(out, 'results.jsonl'), 'utf8')}{"task":"math","mo`);
    await expect(openResultsLog(out, { suite: 'demo', strategy: 'paper' }, false)).rejects.toMatchObject({ code: 'E_OUTPUT_EXISTS' });
    await expect(openResultsLog(out, { suite: 'demo', strategy: 'softmax' }, true)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    const resumed = await openResultsLog(out, { suite: 'demo', strategy: 'paper' }, true);
    expect(resumed.previous).toEqual([results[0], results[1]]);
    expect(parseResultsLog('not json\n{"a":1}\n')).toEqual([]);
  });
});
