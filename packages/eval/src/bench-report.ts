// Renders a bench report: the terminal/markdown table and the JSON the CLI prints with --json
// (`{ runs: [{ mode, tokens, tokensPerSecond, msPerToken: { routing, model, sampling }, ttftMs,
// peakRssMb }], ratios: { routedOverBase, routedOverNaive } }` plus the setup). Not the measuring.

import type { BenchReport, BenchRun } from './bench.js';

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function benchJson(report: BenchReport): string {
  const runJson = (run: BenchRun) => ({
    mode: run.mode,
    tokens: run.tokens,
    tokensPerSecond: round(run.tokensPerSecond, 2),
    msPerToken: { routing: round(run.msPerToken.routing, 4), model: round(run.msPerToken.model, 4), sampling: round(run.msPerToken.sampling, 4) },
    ttftMs: round(run.ttftMs, 2),
    peakRssMb: round(run.peakRssMb, 1),
  });
  const ratios = Object.fromEntries(Object.entries(report.ratios).map(([key, value]) => [key, value === null || value === undefined ? null : round(value, 4)]));
  return `${JSON.stringify({ tokens: report.tokens, rounds: report.rounds, device: report.device, runs: report.runs.map(runJson), ratios }, null, 2)}\n`;
}

/** One row per mode; `markdown` gives a pipe table, otherwise aligned columns. */
export function benchTable(report: BenchReport, markdown = false): string {
  const base = report.runs.find((run) => run.mode === 'base')?.tokensPerSecond;
  const header = ['mode', 'tok/s', '× base', 'routing ms/tok', 'model ms/tok', 'sampling ms/tok', 'TTFT ms', 'peak RSS MB'];
  const rows = report.runs.map((run) => [
    run.mode,
    run.tokensPerSecond.toFixed(1),
    base ? (run.tokensPerSecond / base).toFixed(3) : '—',
    run.msPerToken.routing.toFixed(3),
    run.msPerToken.model.toFixed(3),
    run.msPerToken.sampling.toFixed(3),
    run.ttftMs.toFixed(1),
    run.peakRssMb.toFixed(0),
  ]);
  const ratioLines = [
    `token-level ÷ base-only: ${report.ratios.routedOverBase.toFixed(3)}`,
    ...(report.ratios.routedOverNaive === null ? [] : [`token-level ÷ naive paper loop: ${report.ratios.routedOverNaive.toFixed(1)}×`]),
    ...(report.ratios.routedOverPython === undefined || report.ratios.routedOverPython === null ? [] : [`token-level ÷ Python original: ${report.ratios.routedOverPython.toFixed(1)}×`]),
  ];
  const footer = `${report.tokens} tokens per run, median of ${report.rounds} interleaved rounds, ${report.device}`;
  if (markdown) {
    return [
      `| ${header.join(' | ')} |`,
      `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
      ...rows.map((row) => `| ${row.join(' | ')} |`),
      '',
      ...ratioLines.map((line) => `- ${line}`),
      `- ${footer}`,
      '',
    ].join('\n');
  }
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return `${[line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line), '', ...ratioLines, footer].join('\n')}\n`;
}
