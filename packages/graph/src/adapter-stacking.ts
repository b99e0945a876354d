// Stacks the LoRA factors of every adapter that targets one module into the two thin matrices the
// graph multiplies by: Aᵀ_cat (in, R) and Bᵀ_cat (R, out), R = Σ r_i over the adapters that target
// the module, with each adapter's baked scale folded in (A-side rows × aSide_i, B-side columns ×
// bSide_i; see @lora-tle/mixing bakedScales) and the rank-row → adapter index the mixing inputs are
// gathered with. It validates shapes; it emits no graph nodes (lora-linear.ts does).

import { bakedScales } from '@lora-tle/mixing';
import { LoraTleError } from '@lora-tle/spec';
import type { Combination, ModulePath } from '@lora-tle/spec';
import type { AdapterSource } from './llama-source.js';

export interface StackedModule {
  module: ModulePath;
  inFeatures: number;
  outFeatures: number;
  /** Pack indices of the adapters that target this module, in pack order. */
  adapterIndices: number[];
  rank: number[]; // r_i per adapter in adapterIndices
  rowAdapterIndex: number[]; // (R,) pack index of the adapter each rank row belongs to
  aTransposed: Float32Array; // (in, R)
  bTransposed: Float32Array; // (R, out)
}

/** Null when no adapter targets `module`. */
export function stackModule(
  module: ModulePath,
  outFeatures: number,
  inFeatures: number,
  adapters: readonly AdapterSource[],
  combination: Combination,
): StackedModule | null {
  const adapterIndices: number[] = [];
  const rank: number[] = [];
  adapters.forEach((adapter, index) => {
    const weights = adapter.modules.get(module);
    if (!weights) return;
    if (weights.inFeatures !== inFeatures || weights.outFeatures !== outFeatures) {
      throw new LoraTleError(
        'E_ADAPTER_SHAPE',
        `adapter "${adapter.name}" has ${module} of shape [${weights.outFeatures}, ${weights.inFeatures}] but the base model has [${outFeatures}, ${inFeatures}]; the adapter was trained for another base model`,
        { details: { adapter: adapter.name, module } },
      );
    }
    if (weights.a.length !== weights.rank * inFeatures || weights.b.length !== outFeatures * weights.rank) {
      throw new LoraTleError('E_ADAPTER_SHAPE', `adapter "${adapter.name}" ${module}: lora_A/lora_B sizes do not match rank ${weights.rank}`, {
        details: { adapter: adapter.name, module },
      });
    }
    adapterIndices.push(index);
    rank.push(weights.rank);
  });
  if (adapterIndices.length === 0) return null;
  if (combination !== 'cat' && new Set(rank).size > 1) {
    throw new LoraTleError(
      'E_RANK_MISMATCH',
      `combination "${combination}" needs equal ranks, but ${module} has ranks ${rank.join(', ')}; build the pack with combination "cat"`,
      { details: { module, ranks: rank } },
    );
  }

  const R = rank.reduce((sum, r) => sum + r, 0);
  const aTransposed = new Float32Array(inFeatures * R); // (in, R)
  const bTransposed = new Float32Array(R * outFeatures); // (R, out)
  const rowAdapterIndex: number[] = [];
  let row0 = 0;
  adapterIndices.forEach((adapterIndex, position) => {
    const weights = (adapters[adapterIndex] as AdapterSource).modules.get(module)!;
    const r = rank[position] as number;
    const { aSide, bSide } = bakedScales(combination, weights.scaling);
    for (let k = 0; k < r; k++) {
      rowAdapterIndex.push(adapterIndex);
      for (let i = 0; i < inFeatures; i++) {
        aTransposed[i * R + row0 + k] = (weights.a[k * inFeatures + i] as number) * aSide; // A (r, in)
      }
      for (let o = 0; o < outFeatures; o++) {
        bTransposed[(row0 + k) * outFeatures + o] = (weights.b[o * r + k] as number) * bSide; // B (out, r)
      }
    }
    row0 += r;
  });
  return { module, inFeatures, outFeatures, adapterIndices, rank, rowAdapterIndex, aTransposed, bTransposed };
}
