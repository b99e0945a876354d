// Graph nodes for one linear module with run-time adapter mixing (the graph contract in
// docs/model-pack.md). For x (B, T, in):
//   base:   y = x Wᵀ (+ bias)                                        (B, T, out)
//   cat:    z = x Aᵀ_cat (B, T, R); z ⊙= a[row]·b[row]; y += z Bᵀ_cat
//   linear / linear-peft0.4 (equal ranks r, M adapters on this module):
//           u = Σ_i a_i (A_i x)  = reshape(z ⊙ a[row], (B, T, M, r)).sum(M)   (B, T, r)
//           y += Σ_j b_j B_j u   = (tile(u, M) ⊙ b[row]) Bᵀ_cat
// where a = mix_a, b = mix_b (B, N) and row = the adapter index of each rank row (R,). Baked
// per-module scales are already folded into Aᵀ_cat / Bᵀ_cat (adapter-stacking.ts).
// Not the weight layout (adapter-stacking.ts) nor the layer wiring (decoder-graph.ts).

import type { Combination } from '@lora-tle/spec';
import { type GraphBuilder, int } from './onnx-builder.js';
import type { StackedModule } from './adapter-stacking.js';

/** Gathers per-row mixing coefficients once per distinct rank-row layout and shares them. */
export class MixingCoefficients {
  private readonly cache = new Map<string, string>();

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
    let result: string;
    if (side === 'ab') {
      result = builder.op('Mul', [this.forRows('a', rowAdapterIndex), this.forRows('b', rowAdapterIndex)], { output: builder.uniqueName('mix_ab_rows') });
    } else {
      const rows = builder.int64Constant(rowAdapterIndex);
      const gathered = builder.op('Gather', [side === 'a' ? this.mixA : this.mixB, rows], { attributes: { axis: int(1) } }); // (B, R)
      result = builder.op('Unsqueeze', [gathered, builder.int64Constant([1])], { output: builder.uniqueName(`mix_${side}_rows`) }); // (B, 1, R)
    }
    this.cache.set(key, result);
    return result;
  }
}

export interface LoraLinearWeights {
  weightTransposed: string; // initializer (in, out)
  bias: string | null; // initializer (out,)
  adapters: { stacked: StackedModule; aTransposed: string; bTransposed: string } | null;
}

/** Emits y = linear(x) with adapter mixing; returns the name of y (B, T, out). */
export function emitLoraLinear(
  builder: GraphBuilder,
  x: string,
  weights: LoraLinearWeights,
  combination: Combination,
  mixing: MixingCoefficients,
): string {
  let y = builder.op('MatMul', [x, weights.weightTransposed]); // (B, T, out)
  if (weights.bias !== null) y = builder.op('Add', [y, weights.bias]);
  if (weights.adapters === null) return y;

  const { stacked, aTransposed, bTransposed } = weights.adapters;
  const rows = stacked.rowAdapterIndex;
  const z = builder.op('MatMul', [x, aTransposed]); // (B, T, R)
  let beforeB: string;
  if (combination === 'cat') {
    beforeB = builder.op('Mul', [z, mixing.forRows('ab', rows)]); // (B, T, R)
  } else {
    const adapterCount = stacked.adapterIndices.length; // M
    const r = stacked.rank[0] as number;
    const weighted = builder.op('Mul', [z, mixing.forRows('a', rows)]); // (B, T, M·r)
    const split = builder.op('Reshape', [weighted, builder.int64Constant([0, 0, adapterCount, r])]); // (B, T, M, r)
    const u = builder.op('ReduceSum', [split, builder.int64Constant([2])], { attributes: { keepdims: int(0) } }); // (B, T, r)
    const tiled = adapterCount === 1 ? u : builder.op('Tile', [u, builder.int64Constant([1, 1, adapterCount])]); // (B, T, M·r)
    beforeB = builder.op('Mul', [tiled, mixing.forRows('b', rows)]); // (B, T, M·r)
  }
  const delta = builder.op('MatMul', [beforeB, bTransposed]); // (B, T, out)
  return builder.op('Add', [y, delta]);
}
