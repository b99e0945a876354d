// Renders a bench report: the terminal/markdown table and the JSON the CLI prints with --json
// (`{ runs: [{ mode, tokens, tokensPerSecond, msPerToken: { routing, model, sampling }, ttftMs,
// peakRssMb }], ratios: { routedOverBase, routedOverNaive } }` plus the setup and the round-to-round
// spread and median of token ÷ base). Not the measuring.

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
    cpuMsPerToken: round(run.cpuMsPerToken, 4),
  });
  const ratios = Object.fromEntries(Object.entries(report.ratios).map(([key, value]) => [key, value === null || value === undefined ? null : round(value, 4)]));
  const range = (pair: [number, number] | null) => (pair === null ? null : pair.map((value) => round(value, 4)));
  const spread = { routedOverBase: range(report.spread.routedOverBase), routedOverBaseCpu: range(report.spread.routedOverBaseCpu) };
  const maybe = (value: number | null) => (value === null ? null : round(value, 4));
  const roundMedian = { routedOverBase: maybe(report.roundMedian.routedOverBase), routedOverBaseCpu: maybe(report.roundMedian.routedOverBaseCpu) };
  const naiveForward = report.naiveForward ?? null;
  const naiveDevice = report.naiveDevice ?? null;
  const json = JSON.stringify({ tokens: report.tokens, rounds: report.rounds, device: report.device, runs: report.runs.map(runJson), ratios, spread, roundMedian, naiveForward, naiveDevice }, null, 2);
  if (!report.roundsDetail) return `${json}\n`;
  // every measured run, one line per round in the order the round ran them: [mode, tokens/s, model ms/token, CPU ms/token]
  const rows = report.roundsDetail.map((runs) => `    ${JSON.stringify(runs.map((run) => [run.mode, round(run.tokensPerSecond, 2), round(run.msPerToken.model, 4), round(run.cpuMsPerToken, 4)]))}`);
  return `${json.slice(0, -2)},\n  "roundsDetail": [\n${rows.join(',\n')}\n  ]\n}\n`;
}

/** `; per round: median m, middle half a–b` for a median and interquartile range, '' without them. */
const perRound = (median: number | null, pair: [number, number] | null) =>
  median === null || pair === null ? '' : `; per round: median ${median.toFixed(3)}, middle half ${pair[0].toFixed(3)}–${pair[1].toFixed(3)}`;

/** One row per mode; `markdown` gives a pipe table, otherwise aligned columns. */
export function benchTable(report: BenchReport, markdown = false): string {
  const base = report.runs.find((run) => run.mode === 'base')?.tokensPerSecond;
  const header = ['mode', 'tok/s', '× base', 'routing ms/tok', 'model ms/tok', 'sampling ms/tok', 'CPU ms/tok', 'TTFT ms', 'peak RSS MB'];
  const rows = report.runs.map((run) => [
    run.mode,
    run.tokensPerSecond.toFixed(1),
    base ? (run.tokensPerSecond / base).toFixed(3) : '—',
    run.msPerToken.routing.toFixed(3),
    run.msPerToken.model.toFixed(3),
    run.msPerToken.sampling.toFixed(3),
    run.cpuMsPerToken.toFixed(3),
    run.ttftMs.toFixed(1),
    run.peakRssMb.toFixed(0),
  ]);
  const ratioLines = [
    ...(Number.isNaN(report.ratios.routedOverBase) // without both base and token among the modes
      ? []
      : [
          `token-level ÷ base-only: ${report.ratios.routedOverBase.toFixed(3)} (tokens/s${perRound(report.roundMedian.routedOverBase, report.spread.routedOverBase)}), ` +
            `${report.ratios.routedOverBaseCpu.toFixed(3)} (CPU time per token${perRound(report.roundMedian.routedOverBaseCpu, report.spread.routedOverBaseCpu)})`,
        ]),
    ...(report.ratios.routedOverNaive === null
      ? []
      : [
          `token-level ÷ naive paper loop: ${report.ratios.routedOverNaive.toFixed(1)}× (tokens/s), ${report.ratios.routedOverNaiveCpu?.toFixed(1) ?? '—'}× (CPU time per token); ` +
            (report.naiveForward === 'merged' ? "naive's forward: the merged adapter on the naive graph (the paper's)" : "naive's forward: the run-time mixture of all adapters (no naive graph in the pack)") +
            (report.naiveDevice && report.naiveDevice !== report.device ? `, on ${report.naiveDevice}` : ''),
        ]),
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

/** A horizontal bar chart of tokens/s per mode (hand-written SVG), the ratio to base-only on each bar. */
export function benchSvg(report: BenchReport, title = 'decoding speed by mode (tokens/s, higher is better)'): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const base = report.runs.find((run) => run.mode === 'base')?.tokensPerSecond;
  const fastest = Math.max(...report.runs.map((run) => run.tokensPerSecond), 1e-9);
  const left = 130;
  const barArea = 420;
  const rowHeight = 24;
  const top = 40;
  const width = left + barArea + 150;
  const height = top + report.runs.length * rowHeight + 36;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  report.runs.forEach((run, i) => {
    const y = top + i * rowHeight;
    const length = (barArea * run.tokensPerSecond) / fastest;
    const ratio = base ? ` (${(run.tokensPerSecond / base).toFixed(2)}× base)` : '';
    const fill = run.mode === 'base' ? '#999999' : run.mode === 'naive' || run.mode === 'python-original' ? '#D55E00' : '#0072B2';
    parts.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end">${escape(run.mode)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 3}" width="${length.toFixed(1)}" height="${rowHeight - 8}" fill="${fill}"/>`);
    parts.push(`<text x="${(left + length + 6).toFixed(1)}" y="${y + 14}">${run.tokensPerSecond.toFixed(1)}${escape(ratio)}</text>`);
  });
  parts.push(`<text x="10" y="${height - 10}" fill="#555555">${escape(`${report.tokens} tokens per run, median of ${report.rounds} interleaved rounds, ${report.device}`)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
