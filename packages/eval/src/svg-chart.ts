// A grouped bar chart as hand-written SVG (no dependencies): one group per task (and the average),
// one bar per run (mode + kv) in a fixed colour, y = accuracy 0–100 %, a legend on the right.
// Deterministic text output, so a committed chart diffs cleanly. Not a general plotting library.

import type { EvalReport } from './report.js';
import { runLabel } from './report.js';

// Colour-blind-friendly palette (Okabe–Ito, then Tableau), cycled when there are more runs.
const PALETTE = ['#999999', '#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#4E79A7', '#F28E2B', '#59A14F', '#B07AA1'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface ChartOptions {
  title?: string;
  barWidth?: number; // px (default 12)
}

export function renderSvgChart(report: EvalReport, options: ChartOptions = {}): string {
  const barWidth = options.barWidth ?? 12;
  const tasks = [...new Set(report.results.map((cell) => cell.task))];
  const groups = [...tasks, 'average'];
  const runs = report.averages;
  const modesWithBothKv = new Set(runs.filter((run) => run.kv === 'recompute').map((run) => run.mode));
  const valueOf = (group: string, run: (typeof runs)[number]): number | undefined =>
    group === 'average'
      ? run.accuracy
      : report.results.find((cell) => cell.task === group && cell.mode === run.mode && cell.kv === run.kv)?.accuracy;

  const left = 48;
  const top = 36;
  const plotHeight = 240;
  const groupGap = 18;
  const groupWidth = runs.length * barWidth + groupGap;
  const plotWidth = Math.max(groups.length * groupWidth, 200);
  const legendX = left + plotWidth + 16;
  const legendWidth = 12 + 7 * Math.max(8, ...runs.map((run) => runLabel(run, modesWithBothKv.has(run.mode)).length));
  const width = legendX + legendWidth + 8;
  const height = Math.max(top + plotHeight + 40, top + runs.length * 18 + 8);
  const y = (fraction: number) => top + plotHeight * (1 - fraction);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(options.title ?? `${report.suite}: accuracy by task and mode`)}</text>`,
  ];
  for (let tick = 0; tick <= 100; tick += 20) {
    const ty = y(tick / 100).toFixed(1);
    parts.push(`<line x1="${left}" y1="${ty}" x2="${left + plotWidth}" y2="${ty}" stroke="#dddddd"/>`);
    parts.push(`<text x="${left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${tick}%</text>`);
  }
  groups.forEach((group, g) => {
    const groupX = left + g * groupWidth + groupGap / 2;
    runs.forEach((run, r) => {
      const value = valueOf(group, run);
      if (value === undefined) return;
      const label = `${group} · ${runLabel(run, modesWithBothKv.has(run.mode))}: ${(100 * value).toFixed(1)}%`;
      const barTop = y(value);
      parts.push(
        `<rect x="${(groupX + r * barWidth).toFixed(1)}" y="${barTop.toFixed(1)}" width="${barWidth - 1}" height="${(top + plotHeight - barTop).toFixed(1)}" fill="${PALETTE[r % PALETTE.length]}"><title>${escapeXml(label)}</title></rect>`,
      );
    });
    parts.push(`<text x="${(groupX + (runs.length * barWidth) / 2).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle">${escapeXml(group)}</text>`);
  });
  parts.push(`<line x1="${left}" y1="${top + plotHeight}" x2="${left + plotWidth}" y2="${top + plotHeight}" stroke="#333333"/>`);
  runs.forEach((run, r) => {
    const ly = top + r * 18;
    parts.push(`<rect x="${legendX}" y="${ly}" width="10" height="10" fill="${PALETTE[r % PALETTE.length]}"/>`);
    parts.push(`<text x="${legendX + 14}" y="${ly + 9}">${escapeXml(runLabel(run, modesWithBothKv.has(run.mode)))}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
