// The run-time mixing contract between routing and the graph. The graph bakes per-module scale
// factors into the stacked adapter weights once (bakedScales) and is fed two per-sequence vectors
// a (N,), b (N,) that depend only on the routing weights (mixCoefficients):
//
//   cat:            y = W x + Σ_i b_i a_i · (aSide_i A_i, bSide_i B_i) x  = W x + Σ_i w_i s_i B_i A_i x
//   linear:         y = W x + (Σ_j b_j bSide_j B_j)(Σ_i a_i aSide_i A_i x)       (PEFT ≥ 0.6 'linear')
//   linear-peft0.4: y = W x + (Σ_j b_j bSide_j B_j)(Σ_i a_i aSide_i A_i x)       (PEFT 0.4.0 'linear')
//
// With the values below, `linear` gives A-side sign(w_i s_i)·√|w_i s_i| and B-side √|w_i s_i|, and
// `linear-peft0.4` gives A-side w_i s_i and B-side 1 — exactly PEFT's add_weighted_adapter factors
// (merge.ts), so a run-time mixture equals the offline merge. Not here: the graph itself (graph
// package) or the plain-loop ΔW oracle (delta.ts).

import { LoraTleError, type Combination, type MixCoefficients, type OfflineCombination } from '@lora-tle/spec';

/** Combinations the graph can mix at run time, in documentation order. */
export const RUNTIME_COMBINATIONS: readonly Combination[] = ['cat', 'linear', 'linear-peft0.4'];
/** Everything merge.ts accepts. */
export const OFFLINE_COMBINATIONS: readonly OfflineCombination[] = ['cat', 'linear', 'linear-peft0.4', 'svd', 'svd-peft0.4'];

export function assertRuntimeCombination(combination: string): asserts combination is Combination {
  if (!(RUNTIME_COMBINATIONS as readonly string[]).includes(combination)) {
    const offlineOnly = (OFFLINE_COMBINATIONS as readonly string[]).includes(combination);
    throw new LoraTleError(
      'E_COMBINATION',
      offlineOnly
        ? `combination "${combination}" cannot be mixed at run time (it is not factorisable); merge offline with it, or use one of ${RUNTIME_COMBINATIONS.join(', ')}`
        : `unknown combination "${combination}"; use one of ${RUNTIME_COMBINATIONS.join(', ')}`,
    );
  }
}

export function assertOfflineCombination(combination: string): asserts combination is OfflineCombination {
  if (!(OFFLINE_COMBINATIONS as readonly string[]).includes(combination)) {
    throw new LoraTleError('E_COMBINATION', `unknown combination "${combination}"; use one of ${OFFLINE_COMBINATIONS.join(', ')}`);
  }
}

/** True when the combination multiplies a summed B by a summed A (cross terms B_j A_i, equal ranks). */
export function sharesRankSpace(combination: OfflineCombination): boolean {
  return combination === 'linear' || combination === 'linear-peft0.4';
}

/** sign(x)·√|x| with sign(0) = +1, as PEFT's 'linear' puts it on the A side (√|x| goes on B). */
export function signedSqrt(x: number): number {
  const root = Math.sqrt(Math.abs(x));
  return x >= 0 ? root : -root;
}

/** Per-sequence coefficients a (N,), b (N,) for routing weights w (N,). */
export function mixCoefficients(weights: ArrayLike<number>, combination: Combination): MixCoefficients {
  assertRuntimeCombination(combination);
  const n = weights.length;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!Number.isFinite(w)) {
      throw new LoraTleError('E_INVALID_ARGUMENT', `mixing weight ${i} is ${w}; routing weights must be finite numbers`);
    }
    if (combination === 'linear') {
      // a_i · sign(s_i)√|s_i| = sign(w_i s_i)√|w_i s_i|,  b_i · √|s_i| = √|w_i s_i|
      a[i] = signedSqrt(w);
      b[i] = Math.sqrt(Math.abs(w));
    } else {
      // cat and linear-peft0.4: the weight goes on the A side, B is unweighted
      a[i] = w;
      b[i] = 1;
    }
  }
  return { a, b };
}

export interface BakedScales {
  aSide: number; // multiplies A_i (r_i, in) in the pack
  bSide: number; // multiplies B_i (out, r_i) in the pack
}

/** The per-module factors the graph bakes into adapter i's A and B, from its LoRA scaling s_i. */
export function bakedScales(combination: Combination, scaling: number): BakedScales {
  assertRuntimeCombination(combination);
  if (!Number.isFinite(scaling)) {
    throw new LoraTleError('E_ADAPTER_CONFIG', `LoRA scaling must be finite, got ${scaling}; check lora_alpha and r`);
  }
  if (combination === 'linear') {
    return { aSide: signedSqrt(scaling), bSide: Math.sqrt(Math.abs(scaling)) };
  }
  return { aSide: scaling, bSide: 1 };
}
