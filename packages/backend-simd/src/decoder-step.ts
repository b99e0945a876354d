// The Llama decoder for one token of one batch row, on the kernels: the token's K/V go into the
// row's cache at its slot and attention reads slots [0, slot]. Numerics follow Hugging Face
// LlamaForCausalLM as the pack's graph does: RMSNorm, rotate_half RoPE from the pack's tables,
// grouped-query attention (scale d^-½, padding masked with an additive −1e9 as the graph's
// attention_bias), SwiGLU, tied or separate LM head; adapters mixed at run time by the pack's
// combination (docs/model-pack.md "Run-time adapter mixing"). Matrix products run in WebAssembly,
// the O(H) element-wise work in JavaScript. Not the batch and step bookkeeping (simd-session.ts).

import type { Combination, LlamaArchitecture } from '@lora-tle/spec';
import type { FusedLinear, LayerWeights, ModelWeights } from './pack-weights.js';
import type { WasmHeap } from './wasm-heap.js';

/** Mixing coefficients of one row (pack adapter order). */
export interface RowMix {
  a: ArrayLike<number>;
  b: ArrayLike<number>;
}

/** Where one row's cache lives: per layer the address of its keys and values (n_kv, capacity, d). */
export interface RowCache {
  keys: number[];
  values: number[];
  capacity: number;
}

export class DecoderStep {
  private readonly residual: Float32Array; // (H) the residual stream, in JavaScript
  // scratch in the heap (byte addresses)
  private readonly input: number; // (max(H, I, n_heads·d)) what a linear reads
  private readonly output: number; // (max Σ out) what a linear writes
  private readonly ranks: number; // (max Σ R)
  private readonly attention: number; // (n_heads·d)
  private readonly scores: number; // (max positions)
  private readonly logitsAt: number; // (V)

  constructor(
    private readonly heap: WasmHeap,
    private readonly weights: ModelWeights,
    private readonly arch: LlamaArchitecture,
    private readonly combination: Combination,
  ) {
    const { hiddenSize: H, intermediateSize: I, numHeads, headDim: d, vocabSize: V, maxPositionEmbeddings } = arch;
    const linears = weights.layers.flatMap((layer) => [layer.qkv, layer.o, layer.gateUp, layer.down]);
    this.residual = new Float32Array(H);
    this.input = heap.alloc(Math.max(H, I, numHeads * d), 'scratch');
    this.output = heap.alloc(Math.max(...linears.map((linear) => linear.outFeatures)), 'scratch');
    this.ranks = heap.alloc(Math.max(1, ...linears.map((linear) => linear.totalRank)), 'scratch');
    this.attention = heap.alloc(numHeads * d, 'scratch');
    this.scores = heap.alloc(maxPositionEmbeddings, 'scratch');
    this.logitsAt = heap.alloc(V, 'scratch');
  }

  /**
   * Runs token `tokenId` at rotary position `position`, writing its K/V at `slot` of `cache` and
   * attending to slots [0, slot] (`mask[s] === 0` masks slot s). Writes the final-norm hidden state
   * into `hidden` (H) and, when given, the logits into `logits` (V).
   */
  run(tokenId: number, position: number, slot: number, cache: RowCache, mask: Uint8Array | null, mix: RowMix, hidden: Float32Array, logits: Float32Array | null): void {
    const { hiddenSize: H, vocabSize: V } = this.arch;
    const heap = this.heap;
    this.residual.set(heap.f32.subarray(this.weights.embedding / 4 + tokenId * H, this.weights.embedding / 4 + (tokenId + 1) * H));
    this.weights.layers.forEach((layer, index) => this.layer(layer, index, position, slot, cache, mask, mix));
    this.normInto(this.weights.finalNorm, this.input);
    hidden.set(heap.f32.subarray(this.input / 4, this.input / 4 + H));
    if (logits) {
      heap.matvec(this.weights.lmHead, this.input, this.logitsAt, V, H, false); // (V, H) · (H)
      logits.set(heap.f32.subarray(this.logitsAt / 4, this.logitsAt / 4 + V));
    }
  }

  private layer(layer: LayerWeights, index: number, position: number, slot: number, cache: RowCache, mask: Uint8Array | null, mix: RowMix): void {
    const { hiddenSize: H, intermediateSize: I, numHeads, numKvHeads, headDim: d } = this.arch;
    const heap = this.heap;
    const memory = (): Float32Array => heap.f32;

    // attention
    this.normInto(layer.inputNorm, this.input);
    this.linear(layer.qkv, this.input, mix); // output = q (n_heads·d) | k (n_kv·d) | v (n_kv·d)
    const q = this.output / 4;
    const k = q + numHeads * d;
    const v = k + numKvHeads * d;
    for (let head = 0; head < numHeads; head++) this.rotate(q + head * d, position);
    for (let head = 0; head < numKvHeads; head++) this.rotate(k + head * d, position);
    const keys = cache.keys[index] as number;
    const values = cache.values[index] as number;
    const f32 = memory();
    for (let head = 0; head < numKvHeads; head++) {
      const at = (head * cache.capacity + slot) * d; // (n_kv, capacity, d)
      f32.copyWithin(keys / 4 + at, k + head * d, k + (head + 1) * d);
      f32.copyWithin(values / 4 + at, v + head * d, v + (head + 1) * d);
    }
    const attended = slot + 1;
    const scale = 1 / Math.sqrt(d);
    const perKvHead = numHeads / numKvHeads;
    const scores = this.scores / 4;
    f32.fill(0, this.attention / 4, this.attention / 4 + numHeads * d);
    for (let head = 0; head < numHeads; head++) {
      const kvHead = Math.floor(head / perKvHead); // repeat_kv
      const rows = (kvHead * cache.capacity * d) * 4;
      heap.matvec(keys + rows, this.output + head * d * 4, this.scores, attended, d, false); // (slots, d) · q_head
      if (mask !== null && mask.subarray(0, attended).includes(0)) {
        // padding: −1e9 after scaling, as the graph's attention_bias
        for (let s = 0; s < attended; s++) if (mask[s] === 0) f32[scores + s] = (f32[scores + s] as number) - 1e9 / scale;
      }
      heap.softmax(this.scores, attended, scale);
      heap.matvecT(values + rows, this.scores, this.attention + head * d * 4, attended, d); // Σ_s p_s v_s
    }
    this.linear(layer.o, this.attention, mix);
    this.addToResidual(H);

    // MLP
    this.normInto(layer.postAttentionNorm, this.input);
    this.linear(layer.gateUp, this.input, mix); // output = gate (I) | up (I)
    heap.siluMul(this.output, this.output + I * 4, this.input, I); // silu(gate)·up
    this.linear(layer.down, this.input, mix);
    this.addToResidual(H);
  }

  /** output (Σ out) = Wᵀ x + bias + the mixed adapters' Σ_m Bᵀ_m z_m, for x at `x` (in). */
  private linear(linear: FusedLinear, x: number, mix: RowMix): void {
    const heap = this.heap;
    const f32 = heap.f32;
    f32.fill(0, this.output / 4, this.output / 4 + linear.outFeatures);
    heap.matvecT(linear.weightTransposed, x, this.output, linear.inFeatures, linear.outFeatures); // (in, Σ out)ᵀ · x
    if (linear.bias) for (let o = 0; o < linear.outFeatures; o++) f32[this.output / 4 + o] = (f32[this.output / 4 + o] as number) + (linear.bias[o] as number);
    if (linear.totalRank === 0) return;
    const z = this.ranks / 4;
    f32.fill(0, z, z + linear.totalRank);
    heap.matvecT(linear.aTransposed, x, this.ranks, linear.inFeatures, linear.totalRank); // z (Σ R) = Aᵀ_cat · x
    for (const part of linear.parts) {
      const rows = part.rowAdapter;
      const first = z + part.rankOffset;
      if (this.combination === 'cat') {
        // z ⊙= a[row] · b[row]
        for (let r = 0; r < part.rank; r++) f32[first + r] = (f32[first + r] as number) * (mix.a[rows[r] as number] as number) * (mix.b[rows[r] as number] as number);
      } else {
        // linear / linear-peft0.4 (equal ranks r): u = Σ_i a_i z_i (r); z_i = b_i u
        const adapters = this.adaptersOf(rows);
        const r = part.rank / adapters.length;
        for (let t = 0; t < r; t++) {
          let u = 0;
          adapters.forEach((adapter, i) => (u += (mix.a[adapter] as number) * (f32[first + i * r + t] as number)));
          adapters.forEach((adapter, i) => (f32[first + i * r + t] = u * (mix.b[adapter] as number)));
        }
      }
      heap.matvecT(part.bTransposed, this.ranks + part.rankOffset * 4, this.output + part.column * 4, part.rank, part.outFeatures); // Bᵀ_m (R_m, out_m)
    }
  }

  /** The adapters of a part's rank rows, in order (one entry per adapter). */
  private adaptersOf(rows: Int32Array): number[] {
    const adapters: number[] = [];
    for (const adapter of rows) if (adapters[adapters.length - 1] !== adapter) adapters.push(adapter);
    return adapters;
  }

  /** input ← RMSNorm(residual) · weight. */
  private normInto(weight: Float32Array, at: number): void {
    const H = this.arch.hiddenSize;
    let squares = 0;
    for (let i = 0; i < H; i++) squares += (this.residual[i] as number) ** 2;
    const inverse = 1 / Math.sqrt(squares / H + this.arch.rmsNormEps);
    const f32 = this.heap.f32;
    for (let i = 0; i < H; i++) f32[at / 4 + i] = Math.fround((this.residual[i] as number) * inverse) * (weight[i] as number);
  }

  /** residual += output (H). */
  private addToResidual(H: number): void {
    const f32 = this.heap.f32;
    for (let i = 0; i < H; i++) this.residual[i] = (this.residual[i] as number) + (f32[this.output / 4 + i] as number);
  }

  /** rotate_half RoPE of one head (d floats at float index `at`) at `position`. */
  private rotate(at: number, position: number): void {
    const half = this.arch.headDim / 2;
    const f32 = this.heap.f32;
    const table = position * half;
    for (let i = 0; i < half; i++) {
      const cos = this.weights.ropeCos[table + i] as number;
      const sin = this.weights.ropeSin[table + i] as number;
      const x1 = f32[at + i] as number;
      const x2 = f32[at + half + i] as number;
      f32[at + i] = x1 * cos - x2 * sin;
      f32[at + half + i] = x2 * cos + x1 * sin;
    }
  }
}
