// Test support (not exported): builds packs from random tiny models into a temp directory and
// runs the same steps through the reference forward, so tests compare logits row by row.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AdapterSource, type RandomLlama, writeModelPack } from '@lora-tle/graph';
import { createReferenceCache, mixCoefficients, referenceForward, type ReferenceKvCache } from '@lora-tle/mixing';
import type { Combination, MixCoefficients } from '@lora-tle/spec';

export interface TempDirs {
  make(name: string): string;
  cleanup(): void;
}

export function tempDirs(prefix: string): TempDirs {
  const root = mkdtempSync(join(tmpdir(), `lora-tle-${prefix}-`));
  return { make: (name) => join(root, name), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export async function buildPack(dirs: TempDirs, name: string, model: RandomLlama, adapters: readonly AdapterSource[], combination: Combination = 'cat'): Promise<string> {
  const destination = dirs.make(name);
  await writeModelPack({ source: model, adapters, destination, combination });
  return destination;
}

export function mix(weights: readonly number[], combination: Combination): MixCoefficients {
  return mixCoefficients(weights, combination);
}

/** A reference-forward runner for one sequence. */
export function referenceSequence(model: RandomLlama, adapters: readonly AdapterSource[], combination: Combination) {
  const reference = { architecture: model.architecture, weights: model.weights, adapters, combination };
  const cache: ReferenceKvCache = createReferenceCache(model.architecture);
  return {
    step(tokens: readonly number[], coefficients: MixCoefficients) {
      return referenceForward(reference, tokens, coefficients, cache);
    },
  };
}

export function maxAbsDifference(left: ArrayLike<number>, right: ArrayLike<number>): number {
  if (left.length !== right.length) throw new Error(`length ${left.length} ≠ ${right.length}`);
  let max = 0;
  for (let i = 0; i < left.length; i++) max = Math.max(max, Math.abs((left[i] as number) - (right[i] as number)));
  return max;
}
