// What `lora-tle inspect` reports about a path, as plain data (the --json output), and the
// tensor summary every kind shares. Not here: finding out what a path is (path-inspectors.ts) or
// printing the report as text (render-report.ts).

import type { TensorInfo } from '@lora-tle/lora-store';
import type { LoraTleErrorCode } from '@lora-tle/spec';

export type InspectedKind = 'safetensors' | 'peft-adapter' | 'checkpoint' | 'model-pack';

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
}

export interface TensorSummary {
  count: number;
  parameters: number;
  bytes: number;
  /** dtype → number of tensors. */
  dtypes: Record<string, number>;
  /** Every tensor, in file order (text output shows the first few unless --all). */
  tensors: TensorEntry[];
}

export interface CompatibilityVerdict {
  /** The base checkpoint the adapter was checked against. */
  base: string;
  compatible: boolean;
  /** The LoraTleError code and message when not compatible. */
  problem: { code: LoraTleErrorCode; message: string } | null;
}

export interface InspectReport {
  path: string;
  kind: InspectedKind;
  /** One line: what the path is. */
  description: string;
  /** Kind-specific key facts, in display order (base model, rank, layers, …). */
  facts: Record<string, string | number | boolean | null>;
  /** The parsed configuration file (config.json, adapter_config.json, pack.json), as read. */
  config: unknown;
  tensors: TensorSummary | null;
  verdict: {
    /** Everything that was read passed validation (a failure is an error, not a report). */
    valid: true;
    /** What was checked, in words. */
    checks: string[];
    compatibility: CompatibilityVerdict | null;
  };
}

export function summarizeTensors(infos: readonly TensorInfo[]): TensorSummary {
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  let bytes = 0;
  for (const info of infos) {
    dtypes[info.dtype] = (dtypes[info.dtype] ?? 0) + 1;
    parameters += info.elementCount;
    bytes += info.end - info.begin;
  }
  return {
    count: infos.length,
    parameters,
    bytes,
    dtypes,
    tensors: infos.map((info) => ({ name: info.name, dtype: info.dtype, shape: [...info.shape] })),
  };
}

/** Merges the summaries of several files (sharded checkpoints). */
export function combineSummaries(summaries: readonly TensorSummary[]): TensorSummary {
  const dtypes: Record<string, number> = {};
  for (const summary of summaries) for (const [dtype, count] of Object.entries(summary.dtypes)) dtypes[dtype] = (dtypes[dtype] ?? 0) + count;
  return {
    count: summaries.reduce((sum, summary) => sum + summary.count, 0),
    parameters: summaries.reduce((sum, summary) => sum + summary.parameters, 0),
    bytes: summaries.reduce((sum, summary) => sum + summary.bytes, 0),
    dtypes,
    tensors: summaries.flatMap((summary) => summary.tensors),
  };
}
