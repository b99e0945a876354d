// Prints an InspectReport as aligned text for a terminal. Not here: the report itself
// (inspect-report.ts); --json prints the report object unchanged.

import type { Colors } from '../terminal.js';
import type { InspectReport, TensorSummary } from './inspect-report.js';

const KIND_LABELS: Record<InspectReport['kind'], string> = {
  safetensors: 'safetensors file',
  'peft-adapter': 'PEFT LoRA adapter',
  checkpoint: 'Hugging Face checkpoint',
  'model-pack': 'lora-tle model pack',
};

/** Tensors listed in text output unless --all. */
export const TEXT_TENSOR_LIMIT = 12;

export function formatCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} B`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return String(value);
}

export function formatBytes(value: number): string {
  if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(2)} GiB`;
  if (value >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(2)} MiB`;
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${value} B`;
}

function alignedRows(rows: ReadonlyArray<readonly [string, string]>, colors: Colors): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${colors.bold(label.padEnd(width))}  ${value}`);
}

function tensorLines(summary: TensorSummary, showAll: boolean, colors: Colors): string[] {
  const shown = showAll ? summary.tensors : summary.tensors.slice(0, TEXT_TENSOR_LIMIT);
  if (shown.length === 0) return [];
  const nameWidth = Math.max(...shown.map((tensor) => tensor.name.length));
  const lines = shown.map((tensor) => `  ${tensor.name.padEnd(nameWidth)}  ${tensor.dtype.padEnd(5)}  [${tensor.shape.join(', ')}]`);
  const hidden = summary.tensors.length - shown.length;
  if (hidden > 0) lines.push(colors.dim(`  … ${hidden} more (--all lists every tensor, --json gives them all)`));
  return lines;
}

export function renderReport(report: InspectReport, showAll: boolean, colors: Colors): string {
  const rows: Array<[string, string]> = [
    ['path', report.path],
    ['kind', `${KIND_LABELS[report.kind]} — ${report.description}`],
  ];
  for (const [label, value] of Object.entries(report.facts)) rows.push([label, value === null ? '—' : String(value)]);
  const { tensors, verdict } = report;
  if (tensors !== null) {
    const dtypes = Object.entries(tensors.dtypes).map(([dtype, count]) => `${dtype} ×${count}`).join(', ');
    rows.push(['tensors', `${tensors.count} (${dtypes}), ${formatCount(tensors.parameters)} parameters, ${formatBytes(tensors.bytes)}`]);
  }
  rows.push(['valid', `${colors.green('yes')} (${verdict.checks.join('; ')})`]);
  if (verdict.compatibility !== null) {
    const { base, compatible, problem } = verdict.compatibility;
    rows.push(['compatible', compatible ? `${colors.green('yes')} with ${base}` : `${colors.red('no')} with ${base}: ${problem === null ? '' : `[${problem.code}] ${problem.message}`}`]);
  }
  const lines = alignedRows(rows, colors);
  if (tensors !== null && tensors.count > 0) lines.push('', colors.bold('tensors'), ...tensorLines(tensors, showAll, colors));
  return `${lines.join('\n')}\n`;
}
