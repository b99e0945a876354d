// ΔW of LoRA modules in plain loops: one adapter (ΔW = s · B · A) and the run-time mixture the
// graph computes from mixCoefficients and bakedScales (combination.ts). These are oracles for tests
// and for small reference paths — O(out · in · r) per call, never used per token on a real model.
// Also the shape checks every function taking LoRA modules shares. Not here: offline merges.

import { LoraTleError, type Combination, type LoraModuleWeights } from '@lora-tle/spec';
import { bakedScales, mixCoefficients, sharesRankSpace } from './combination.js';

/**
 * Throws E_ADAPTER_SHAPE unless every module has consistent (r, in) / (out, r) factors of one
 * (out, in), and E_INVALID_ARGUMENT for a NaN or infinite factor value.
 */
export function checkModuleShapes(modules: readonly LoraModuleWeights[], what: string): { inFeatures: number; outFeatures: number } {
  if (modules.length === 0) throw new LoraTleError('E_INVALID_ARGUMENT', `${what}: no adapters given; pass at least one LoRA module`);
  const first = modules[0]!;
  for (const [i, module] of modules.entries()) {
    const where = `${what}: adapter ${i} (${module.module})`;
    if (!Number.isInteger(module.rank) || module.rank <= 0) {
      throw new LoraTleError('E_ADAPTER_SHAPE', `${where} has rank ${module.rank}; ranks must be positive integers`);
    }
    if (module.a.length !== module.rank * module.inFeatures || module.b.length !== module.outFeatures * module.rank) {
      throw new LoraTleError(
        'E_ADAPTER_SHAPE',
        `${where}: A has ${module.a.length} values and B ${module.b.length}, expected A (${module.rank}, ${module.inFeatures}) and B (${module.outFeatures}, ${module.rank}); the adapter file does not match its config`,
      );
    }
    for (const [side, values] of [['A', module.a], ['B', module.b]] as const) {
      const bad = values.findIndex((value) => !Number.isFinite(value));
      if (bad >= 0) {
        throw new LoraTleError('E_INVALID_ARGUMENT', `${where}: ${side} holds ${values[bad]} at index ${bad}; the adapter weights are corrupt (re-export or re-train it)`);
      }
    }
    if (module.inFeatures !== first.inFeatures || module.outFeatures !== first.outFeatures) {
      throw new LoraTleError(
        'E_ADAPTER_SHAPE',
        `${where} is (${module.outFeatures}, ${module.inFeatures}) but adapter 0 is (${first.outFeatures}, ${first.inFeatures}); adapters mixed together must target the same base module`,
      );
    }
  }
  return { inFeatures: first.inFeatures, outFeatures: first.outFeatures };
}

/** Throws E_RANK_MISMATCH unless all modules share one rank; returns it. */
export function requireEqualRanks(modules: readonly LoraModuleWeights[], combination: string): number {
  const rank = modules[0]!.rank;
  if (modules.some((module) => module.rank !== rank)) {
    throw new LoraTleError(
      'E_RANK_MISMATCH',
      `combination "${combination}" multiplies a sum of B by a sum of A, so all adapters need one rank; got ranks ${modules.map((m) => m.rank).join(', ')} for ${modules[0]!.module}. Use "cat" (exact, any ranks) instead`,
    );
  }
  return rank;
}

export function checkWeights(weights: ArrayLike<number>, count: number, what: string): void {
  if (weights.length !== count) {
    throw new LoraTleError('E_INVALID_ARGUMENT', `${what}: got ${weights.length} weights for ${count} adapters; pass one weight per adapter`);
  }
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i]!)) throw new LoraTleError('E_INVALID_ARGUMENT', `${what}: weight ${i} is ${weights[i]}; weights must be finite`);
  }
}

/** ΔW = s · B · A → (out, in), accumulated in float64. */
export function loraDelta(module: LoraModuleWeights): Float32Array {
  checkModuleShapes([module], 'loraDelta');
  return scaledProduct([{ a: module.a, b: module.b, aScale: module.scaling, bScale: 1 }], module.rank, module.inFeatures, module.outFeatures);
}

/**
 * The ΔW (out, in) the graph applies for one module under run-time mixing, computed from
 * mixCoefficients(weights) and bakedScales(s_i) exactly as the graph contract states:
 *   cat:     ΔW = Σ_i b_i a_i (bSide_i B_i)(aSide_i A_i)
 *   linear*: ΔW = (Σ_j b_j bSide_j B_j)(Σ_i a_i aSide_i A_i)       (equal ranks)
 */
export function mixedDelta(modules: readonly LoraModuleWeights[], weights: ArrayLike<number>, combination: Combination): Float32Array {
  const { inFeatures, outFeatures } = checkModuleShapes(modules, 'mixedDelta');
  checkWeights(weights, modules.length, 'mixedDelta');
  const { a: mixA, b: mixB } = mixCoefficients(weights, combination);
  const baked = modules.map((module) => bakedScales(combination, module.scaling));
  if (!sharesRankSpace(combination)) {
    const terms = modules.map((module, i) => ({
      a: module.a,
      b: module.b,
      aScale: mixB[i]! * mixA[i]! * baked[i]!.aSide,
      bScale: baked[i]!.bSide,
      rank: module.rank,
    }));
    const out = new Float64Array(outFeatures * inFeatures);
    for (const term of terms) accumulate(out, [term], term.rank, inFeatures, outFeatures);
    return Float32Array.from(out);
  }
  const r = requireEqualRanks(modules, combination);
  const summedA = new Float64Array(r * inFeatures); // (r, in)  Σ_i a_i aSide_i A_i
  const summedB = new Float64Array(outFeatures * r); // (out, r) Σ_j b_j bSide_j B_j
  modules.forEach((module, i) => {
    const aScale = mixA[i]! * baked[i]!.aSide;
    const bScale = mixB[i]! * baked[i]!.bSide;
    for (let k = 0; k < summedA.length; k++) summedA[k]! += aScale * module.a[k]!;
    for (let k = 0; k < summedB.length; k++) summedB[k]! += bScale * module.b[k]!;
  });
  return scaledProduct([{ a: summedA, b: summedB, aScale: 1, bScale: 1 }], r, inFeatures, outFeatures);
}

interface ScaledPair {
  a: ArrayLike<number>; // (r, in)
  b: ArrayLike<number>; // (out, r)
  aScale: number;
  bScale: number;
}

function scaledProduct(pairs: ScaledPair[], rank: number, inFeatures: number, outFeatures: number): Float32Array {
  const out = new Float64Array(outFeatures * inFeatures);
  accumulate(out, pairs, rank, inFeatures, outFeatures);
  return Float32Array.from(out);
}

/** out (out, in) += Σ_pairs (bScale B)(aScale A). */
function accumulate(out: Float64Array, pairs: ScaledPair[], rank: number, inFeatures: number, outFeatures: number): void {
  for (const { a, b, aScale, bScale } of pairs) {
    const scale = aScale * bScale;
    if (scale === 0) continue;
    for (let o = 0; o < outFeatures; o++) {
      for (let k = 0; k < rank; k++) {
        const bok = b[o * rank + k]! * scale;
        if (bok === 0) continue;
        const aRow = k * inFeatures;
        const outRow = o * inFeatures;
        for (let i = 0; i < inFeatures; i++) out[outRow + i]! += bok * a[aRow + i]!;
      }
    }
  }
}
