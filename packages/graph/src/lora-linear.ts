// Graph nodes for linear modules with run-time adapter mixing (the graph contract in
// docs/model-pack.md). Modules that read the same input (q/k/v, gate/up) are fused: one MatMul for
// their base weights and one for their stacked A factors, then Split. With `cat` and small enough
// factors, their B factors too: one block-diagonal Bᵀ (Σ R, Σ out) and one Add before the Split, so
// a decode step dispatches fewer nodes. For x (B, T, in) and each module m:
//   base:   y_m = x W_mᵀ (+ bias)                                       (B, T, out_m)
//   cat:    z = x Aᵀ_cat (B, T, R); z ⊙= a[row]·b[row]; y_m += z_m Bᵀ_m
//   linear / linear-peft0.4 (equal ranks r, M adapters on module m):
//           u_m = Σ_i a_i (A_i x) = reshape(z_m ⊙ a[row], (B, T, M, r)).sum(M)   (B, T, r)
//           y_m += (tile(u_m, M) ⊙ b[row]) Bᵀ_m
// where a = mix_a, b = mix_b (B, N) and row = the adapter index of each rank row (R,). Baked
// per-module scales are already folded into the factors (adapter-stacking.ts).
// Not the weight layout (adapter-stacking.ts) nor the layer wiring (decoder-graph.ts).

import type { Combination } from '@lora-tle/spec';
import type { StackedModule } from './adapter-stacking.js';
import { type GraphBuilder, int } from './onnx-builder.js';

/**
 * Per-row mixing coefficients, one Gather per distinct rank-row layout and side, shared by every
 * module with that layout. The indices are (1, R), so the Gather gives (B, 1, R) directly (no
 * Unsqueeze), and a·b is one Mul of the (B, N) inputs shared by all layouts: each node is a kernel
 * dispatch on every decode step.
 */
export class MixingCoefficients {
  private readonly cache = new Map<string, string>();
  private mixAB: string | null = null;

  constructor(
    private readonly builder: GraphBuilder,
    private readonly mixA: string, // (B, N)
    private readonly mixB: string, // (B, N)
  ) {}

  /** (B, 1, R): a[row], b[row] or a[row]·b[row]. */
  forRows(side: 'a' | 'b' | 'ab', rowAdapterIndex: readonly number[]): string {
    const key = `${side}:${rowAdapterIndex.join(',')}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const builder = this.builder;
    const source = side === 'a' ? this.mixA : side === 'b' ? this.mixB : (this.mixAB ??= builder.op('Mul', [this.mixA, this.mixB], { output: builder.uniqueName('mix_ab') })); // (B, N)
    const rows = builder.int64Constant(rowAdapterIndex, [1, rowAdapterIndex.length]); // (1, R)
    const result = builder.op('Gather', [source, rows], { attributes: { axis: int(1) }, output: builder.uniqueName(`mix_${side}_rows`) }); // (B, 1, R)
    this.cache.set(key, result);
    return result;
  }
}

/** What the nodes of one adapted module need: the adapter index of each rank row, and (linear combinations) which adapters and their rank. */
export type RankRows = Pick<StackedModule, 'rowAdapterIndex' | 'adapterIndices' | 'rank'>;

export interface FusedLinearWeights {
  weightTransposed: string; // initializer (in, Σ out_m)
  bias: string | null; // initializer (Σ out_m,)
  outFeatures: readonly number[]; // out_m per module, in order
  /**
   * Stacked adapters of the modules that have any, with their position in `outFeatures`; B as one
   * Bᵀ (R_m, out_m) per part, or (`cat` only) one block-diagonal Bᵀ (Σ R, Σ out) for the group.
   */
  adapters: {
    aTransposed: string; // (in, Σ R)
    parts: { index: number; stacked: RankRows }[];
    b: { kind: 'per-part'; bTransposed: string[] } | { kind: 'block-diagonal'; bTransposed: string };
  } | null;
}

/**
 * Most zeros a block-diagonal Bᵀ may add over per-module factors (elements): below it, reading the
 * zeros costs less than the MatMul and Add nodes it saves per layer (a few µs each on CPU).
 */
export const BLOCK_DIAGONAL_B_MAX_ZEROS = 1 << 16;

/** Bᵀ (Σ R, Σ out) with each part's Bᵀ (R_m, out_m) at (its rank rows, its module's columns). */
export function blockDiagonalB(parts: readonly { index: number; stacked: StackedModule }[], outFeatures: readonly number[]): Float32Array {
  const totalRank = parts.reduce((sum, part) => sum + part.stacked.rowAdapterIndex.length, 0);
  const totalOut = outFeatures.reduce((sum, out) => sum + out, 0);
  const block = new Float32Array(totalRank * totalOut); // (Σ R, Σ out)
  let row0 = 0;
  for (const { index, stacked } of parts) {
    const column0 = outFeatures.slice(0, index).reduce((sum, out) => sum + out, 0);
    const R = stacked.rowAdapterIndex.length;
    for (let k = 0; k < R; k++) block.set(stacked.bTransposed.subarray(k * stacked.outFeatures, (k + 1) * stacked.outFeatures), (row0 + k) * totalOut + column0);
    row0 += R;
  }
  return block;
}

function split(builder: GraphBuilder, value: string, sizes: readonly number[]): string[] {
  if (sizes.length === 1) return [value];
  return builder.node('Split', [value, builder.int64Constant(sizes)], { attributes: { axis: int(-1) }, outputs: sizes.length });
}

/**
 * Emits y_m for every module of the group; returns their names, each (B, T, out_m). With `packed`,
 * returns one name instead: the y_m concatenated along the last axis (B, T, Σ out), for a consumer
 * that takes them packed (GroupQueryAttention's packed QKV).
 */
export function emitFusedLoraLinear(
  builder: GraphBuilder,
  x: string,
  weights: FusedLinearWeights,
  combination: Combination,
  mixing: MixingCoefficients,
  packed = false,
): string[] {
  const finish = (fused: string): string[] => (packed ? [fused] : split(builder, fused, weights.outFeatures));
  let y = builder.op('MatMul', [x, weights.weightTransposed]); // (B, T, Σ out)
  if (weights.bias !== null) y = builder.op('Add', [y, weights.bias]);
  if (weights.adapters === null) return finish(y);

  const { parts, aTransposed, b } = weights.adapters;
  const rows = parts.flatMap((part) => part.stacked.rowAdapterIndex); // (Σ R,)
  const z = builder.op('MatMul', [x, aTransposed]); // (B, T, Σ R)
  const weighted = builder.op('Mul', [z, mixing.forRows(combination === 'cat' ? 'ab' : 'a', rows)]); // (B, T, Σ R)
  if (b.kind === 'block-diagonal') {
    const delta = builder.op('MatMul', [weighted, b.bTransposed]); // (B, T, Σ out)
    return finish(builder.op('Add', [y, delta]));
  }
  const outputs = split(builder, y, weights.outFeatures);
  const pieces = split(
    builder,
    weighted,
    parts.map((part) => part.stacked.rowAdapterIndex.length),
  );
  parts.forEach((part, position) => {
    let beforeB = pieces[position] as string; // cat: (B, T, R_m)
    if (combination !== 'cat') {
      const adapterCount = part.stacked.adapterIndices.length; // M
      const r = part.stacked.rank[0] as number;
      const grouped = builder.op('Reshape', [beforeB, builder.int64Constant([0, 0, adapterCount, r])]); // (B, T, M, r)
      const u = builder.op('ReduceSum', [grouped, builder.int64Constant([2])], { attributes: { keepdims: int(0) } }); // (B, T, r)
      const tiled = adapterCount === 1 ? u : builder.op('Tile', [u, builder.int64Constant([1, 1, adapterCount])]); // (B, T, M·r)
      beforeB = builder.op('Mul', [tiled, mixing.forRows('b', part.stacked.rowAdapterIndex)]); // (B, T, M·r)
    }
    const delta = builder.op('MatMul', [beforeB, b.bTransposed[position] as string]); // (B, T, out_m)
    outputs[part.index] = builder.op('Add', [outputs[part.index] as string, delta]);
  });
  return packed && outputs.length > 1 ? [builder.op('Concat', outputs, { attributes: { axis: int(-1) } })] : outputs;
}
