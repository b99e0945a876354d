// Truncated SVD of a weighted sum of LoRA products, D = Σ_i k_i B_i A_i (out, in), without ever
// forming D: D has rank ≤ R = Σ r_i, so with B_cat = Q_B R_B and A_catᵀ = Q_A R_A (thin QR),
//   D = Q_B · (R_B diag(k) R_Aᵀ) · Q_Aᵀ,   core (≤R, ≤R) = U_c S V_cᵀ,   U = Q_B U_c,  Vh = V_cᵀ Q_Aᵀ.
// Cost O((out + in) R² + R³) instead of O(out · in · min(out, in)). Float64 inside.
// Singular vectors are only defined up to sign; we fix it deterministically (the entry of largest
// magnitude in each column of U is positive) because the optional quantile clamp depends on it.
// Not here: PEFT's merge semantics (which k, which rank, when to clamp) — merge.ts decides those.

import { householderQr, jacobiSvd, matmul, matrix, quantile } from './linalg.js';

export interface LowRankTerm {
  a: Float32Array; // (r_i, in)
  b: Float32Array; // (out, r_i)
  rank: number; // r_i
  coefficient: number; // k_i
}

export interface TruncatedFactors {
  a: Float32Array; // Vh (rank, in)
  b: Float32Array; // U · S (out, rank)
  singularValues: Float64Array; // all min(out, in, R) of them, descending
}

/**
 * Best rank-`rank` factorisation of D = Σ k_i B_i A_i as B_new = U·S (out, rank), A_new = Vh
 * (rank, in). A rank above the number of singular values available pads with zero rows/columns.
 * `clampQuantile` q: hi = quantile(concat(U·S, Vh), q), both clamped to [−hi, hi] (PEFT svd_clamp).
 */
export function truncatedSvdOfSum(
  terms: readonly LowRankTerm[],
  inFeatures: number,
  outFeatures: number,
  rank: number,
  clampQuantile: number | null,
): TruncatedFactors {
  const totalRank = terms.reduce((sum, term) => sum + term.rank, 0); // R
  const stackedB = matrix(outFeatures, totalRank); // (out, R)  [B_1 … B_N]
  const stackedAt = matrix(inFeatures, totalRank); // (in, R)   [A_1 … A_N]ᵀ
  const coefficients = new Float64Array(totalRank); // (R,) k_i repeated r_i times
  let offset = 0;
  for (const term of terms) {
    for (let k = 0; k < term.rank; k++) {
      coefficients[offset + k] = term.coefficient;
      for (let o = 0; o < outFeatures; o++) stackedB.values[o * totalRank + offset + k] = term.b[o * term.rank + k]!;
      for (let i = 0; i < inFeatures; i++) stackedAt.values[i * totalRank + offset + k] = term.a[k * inFeatures + i]!;
    }
    offset += term.rank;
  }
  const { q: qB, r: rB } = householderQr(stackedB); // (out, p), (p, R)
  const { q: qA, r: rA } = householderQr(stackedAt); // (in, q), (q, R)
  // core (p, q) = R_B diag(k) R_Aᵀ
  const weightedRB = matrix(rB.rows, totalRank, rB.values);
  for (let row = 0; row < rB.rows; row++) {
    for (let col = 0; col < totalRank; col++) weightedRB.values[row * totalRank + col]! *= coefficients[col]!;
  }
  const core = matrix(rB.rows, rA.rows);
  for (let row = 0; row < rB.rows; row++) {
    for (let col = 0; col < rA.rows; col++) {
      let sum = 0;
      for (let k = 0; k < totalRank; k++) sum += weightedRB.values[row * totalRank + k]! * rA.values[col * totalRank + k]!;
      core.values[row * rA.rows + col] = sum;
    }
  }
  const { us: coreUs, s, v: coreV } = jacobiSvd(core); // (p, kc), (kc,), (q, kc)
  const us = matmul(qB, coreUs); // (out, kc)  U · S
  const v = matmul(qA, coreV); // (in, kc)    Vhᵀ
  const available = s.length; // kc
  for (let j = 0; j < available; j++) {
    if (largestMagnitudeIsNegative(us.values, us.cols, j, outFeatures) ?? largestMagnitudeIsNegative(v.values, v.cols, j, inFeatures)) {
      for (let o = 0; o < outFeatures; o++) us.values[o * us.cols + j] = -us.values[o * us.cols + j]!;
      for (let i = 0; i < inFeatures; i++) v.values[i * v.cols + j] = -v.values[i * v.cols + j]!;
    }
  }
  const b = new Float64Array(outFeatures * rank); // (out, rank)
  const a = new Float64Array(rank * inFeatures); // (rank, in)
  const kept = Math.min(rank, available);
  for (let j = 0; j < kept; j++) {
    for (let o = 0; o < outFeatures; o++) b[o * rank + j] = us.values[o * us.cols + j]!;
    for (let i = 0; i < inFeatures; i++) a[j * inFeatures + i] = v.values[i * v.cols + j]!;
  }
  if (clampQuantile !== null) {
    const all = new Float64Array(b.length + a.length);
    all.set(b);
    all.set(a, b.length);
    const high = quantile(all, clampQuantile);
    const low = -high;
    const clamp = (value: number): number => Math.min(Math.max(value, low), high);
    for (let k = 0; k < b.length; k++) b[k] = clamp(b[k]!);
    for (let k = 0; k < a.length; k++) a[k] = clamp(a[k]!);
  }
  return { a: Float32Array.from(a), b: Float32Array.from(b), singularValues: s };
}

/** Sign of the largest-|·| entry of column `column` (first on ties); null for an all-zero column. */
function largestMagnitudeIsNegative(values: Float64Array, stride: number, column: number, rows: number): boolean | null {
  let best = 0;
  for (let row = 0; row < rows; row++) {
    const value = values[row * stride + column]!;
    if (Math.abs(value) > Math.abs(best)) best = value;
  }
  return best === 0 ? null : best < 0;
}
