// Test support: loads packages/mixing/test-fixtures/peft-vectors.{json,safetensors}, made by
// tools/peft-vectors/make_peft_vectors.py with real PEFT. Carries its own ~20-line safetensors
// reader (F32 only, trusted fixture) so this package does not depend on @lora-tle/lora-store.
// Not exported from index.ts.

import { readFileSync } from 'node:fs';
import type { LoraAdapterConfig, OfflineCombination } from '@lora-tle/spec';

const FIXTURE_DIR = new URL('../test-fixtures/', import.meta.url);

export interface PeftModuleFacts {
  rank: number;
  alpha: number;
  scaling: number;
  inFeatures: number;
  outFeatures: number;
}

export interface PeftAdapterFixture {
  name: string;
  config: Pick<LoraAdapterConfig, 'r' | 'loraAlpha' | 'useRslora' | 'rankPattern' | 'alphaPattern'> & { targetModules: string[] };
  modules: Record<string, PeftModuleFacts>; // module path → what PEFT resolved
}

export interface PeftMergeFixture {
  key: string;
  combination: OfflineCombination;
  svdRank: number | null;
  source: string;
  newRank: number;
  newUseRslora: boolean;
  modules: { path: string; rank: number; scaling: number }[];
}

export interface PeftCaseFixture {
  name: string;
  weights: number[];
  adapters: PeftAdapterFixture[];
  merges: PeftMergeFixture[];
}

export interface PeftVectors {
  versions: Record<string, string>;
  cases: PeftCaseFixture[];
  tensor(name: string): Float32Array;
  has(name: string): boolean;
}

export function loadPeftVectors(): PeftVectors {
  const meta = JSON.parse(readFileSync(new URL('peft-vectors.json', FIXTURE_DIR), 'utf8')) as { versions: Record<string, string>; cases: PeftCaseFixture[] };
  const bytes = readFileSync(new URL('peft-vectors.safetensors', FIXTURE_DIR));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const dataStart = 8 + headerLength;
  const tensor = (name: string): Float32Array => {
    const entry = header[name];
    if (entry === undefined || entry.dtype !== 'F32') throw new Error(`fixture tensor ${name} missing or not F32`);
    const [begin, end] = entry.data_offsets;
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)); // aligned copy
    return new Float32Array(copy.buffer, 0, (end - begin) / 4);
  };
  return { versions: meta.versions, cases: meta.cases, tensor, has: (name) => name in header };
}
