// The Llama decoder for the tokens of one step — a prompt's tokens, or one token of each batch row,
// or both — on the kernels: each token's K/V go into its row's cache at its slot, and it attends to
// its row's slots up to its own. Numerics follow
// Hugging Face LlamaForCausalLM as the pack's graph does: RMSNorm, rotate_half RoPE from the pack's
// tables, grouped-query attention (scale d^-½, padding masked with an additive −1e9 as the graph's
// attention_bias), SwiGLU, tied or separate LM head; adapters mixed at run time by the pack's
// combination (docs/model-pack.md "Run-time adapter mixing"). The arithmetic runs in WebAssembly,
// products four tokens at a time (of one row or several); JavaScript sequences the calls and applies the
// mixing coefficients, biases and K/V copies. Not the batch and step bookkeeping (simd-session.ts).

import type { Combination, LlamaArchitecture } from '@lora-tle/spec';
import type { FusedLinear, LayerWeights, ModelWeights } from './pack-weights.js';
import { PANEL_COLUMNS, panelsOf, type WasmHeap } from './wasm-heap.js';

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

/** One batch row of a step: where its cache lives, its padding mask and its mixture. */
export interface StepRow {
  cache: RowCache;
  mask: Uint8Array | null; // (cache length + T) 0 = padding, null = none
  mix: RowMix;
}

/** One token of a step. Tokens of a row are consecutive and in order. */
export interface StepToken {
  id: number;
  position: number; // rotary position
  slot: number; // its cache slot; it attends to slots [0, slot] of its row
  row: number; // index into the step's rows
}

/** Scratch in the heap (byte addresses), sized for `tokens` tokens at a time; rows of fixed widths. */
interface Scratch {
  tokens: number;
  residual: number; // (N, H) the residual stream
  input: number; // (N, inputWidth) what a linear reads
  output: number; // (N, outputWidth) what a linear writes: y (Σ out), then z (Σ R)
  attention: number; // (N, n_heads·d)
}

export class DecoderStep {
  private readonly inputWidth: number;
  private readonly outputWidth: number;
  private scratch: Scratch;
  private readonly scores: number; // (max positions)
  private readonly bias: number; // (max positions) the padding mask as an additive bias
  private readonly logitsAt: number; // (V)

  constructor(
    private readonly heap: WasmHeap,
    private readonly weights: ModelWeights,
    private readonly arch: LlamaArchitecture,
    private readonly combination: Combination,
  ) {
    const { hiddenSize: H, intermediateSize: I, numHeads, headDim: d } = arch;
    const linears = weights.layers.flatMap((layer) => [layer.qkv, layer.o, layer.gateUp, layer.down]);
    this.inputWidth = Math.max(H, I, numHeads * d);
    this.outputWidth = Math.max(...linears.map((linear) => linear.panels * PANEL_COLUMNS)); // a product writes whole panels
    this.scratch = this.allocateScratch(1);
    this.scores = heap.alloc(arch.maxPositionEmbeddings, 'scratch');
    this.bias = heap.alloc(arch.maxPositionEmbeddings, 'scratch');
    this.logitsAt = heap.alloc(panelsOf(arch.vocabSize) * PANEL_COLUMNS, 'scratch');
  }

  /**
   * Runs a step's tokens (N). Writes each token's final-norm hidden state into `hidden` (N, H) and
   * the logits of the tokens `logitsOf` lists into `logits` (V each, in that order).
   */
  run(tokens: readonly StepToken[], rows: readonly StepRow[], hidden: Float32Array, logits: Float32Array, logitsOf: readonly number[]): void {
    const { hiddenSize: H, vocabSize: V, rmsNormEps } = this.arch;
    const N = tokens.length;
    if (N > this.scratch.tokens) this.scratch = this.allocateScratch(N);
    const heap = this.heap;
    const { residual, input } = this.scratch;
    const f32 = heap.f32;
    tokens.forEach((token, t) => {
      const from = this.weights.embedding / 4 + token.id * H;
      f32.copyWithin(residual / 4 + t * H, from, from + H);
    });
    const padded = rows.map((row) => row.mask !== null && row.mask.includes(0));
    this.weights.layers.forEach((layer, index) => this.layer(layer, index, tokens, rows, padded));
    for (let t = 0; t < N; t++) heap.rmsNorm(residual + t * H * 4, this.weights.finalNorm, input + t * this.inputWidth * 4, H, rmsNormEps);
    for (let t = 0; t < N; t++) hidden.set(f32.subarray(input / 4 + t * this.inputWidth, input / 4 + t * this.inputWidth + H), t * H);
    logitsOf.forEach((t, k) => {
      heap.panelProduct(this.weights.lmHead, input + t * this.inputWidth * 4, H, this.logitsAt, V, H, panelsOf(V), 1, false); // (H)ᵀ · (H, V)
      logits.set(f32.subarray(this.logitsAt / 4, this.logitsAt / 4 + V), k * V);
    });
  }

  private allocateScratch(tokens: number): Scratch {
    const old = this.scratch as Scratch | undefined;
    if (old) for (const at of [old.residual, old.input, old.output, old.attention]) this.heap.release(at);
    const { hiddenSize: H, numHeads, headDim: d } = this.arch;
    return {
      tokens,
      residual: this.heap.alloc(tokens * H, 'scratch'),
      input: this.heap.alloc(tokens * this.inputWidth, 'scratch'),
      output: this.heap.alloc(tokens * this.outputWidth, 'scratch'),
      attention: this.heap.alloc(tokens * numHeads * d, 'scratch'),
    };
  }

  private layer(layer: LayerWeights, index: number, tokens: readonly StepToken[], rows: readonly StepRow[], padded: readonly boolean[]): void {
    const { hiddenSize: H, intermediateSize: I, numHeads, numKvHeads, headDim: d, rmsNormEps } = this.arch;
    const heap = this.heap;
    const { residual, input, output, attention } = this.scratch;
    const inputWidth = this.inputWidth;
    const outputWidth = this.outputWidth;
    const half = d / 2;
    const N = tokens.length;

    // attention: q, k, v of every token; K/V into the caches; then each token attends to its slots
    for (let t = 0; t < N; t++) heap.rmsNorm(residual + t * H * 4, layer.inputNorm, input + t * inputWidth * 4, H, rmsNormEps);
    this.linear(layer.qkv, input, inputWidth, tokens, rows); // token t: q (n_heads·d) | k (n_kv·d) | v (n_kv·d)
    const f32 = heap.f32;
    tokens.forEach((token, t) => {
      const cache = (rows[token.row] as StepRow).cache;
      const q = output + t * outputWidth * 4;
      const table = token.position * half * 4;
      heap.rope(q, numHeads + numKvHeads, half, this.weights.ropeCos + table, this.weights.ropeSin + table); // q and k heads are adjacent
      const k = q / 4 + numHeads * d;
      const v = k + numKvHeads * d;
      for (let head = 0; head < numKvHeads; head++) {
        const at = (head * cache.capacity + token.slot) * d; // (n_kv, capacity, d)
        f32.copyWithin((cache.keys[index] as number) / 4 + at, k + head * d, k + (head + 1) * d);
        f32.copyWithin((cache.values[index] as number) / 4 + at, v + head * d, v + (head + 1) * d);
      }
    });
    const scale = 1 / Math.sqrt(d);
    let biasRow = -1; // the row whose padding mask the bias buffer holds
    tokens.forEach((token, t) => {
      const { cache, mask } = rows[token.row] as StepRow;
      if (padded[token.row] && biasRow !== token.row) {
        for (let s = 0; s < (mask as Uint8Array).length; s++) f32[this.bias / 4 + s] = (mask as Uint8Array)[s] === 0 ? -1e9 : 0;
        biasRow = token.row;
      }
      const q = output + t * outputWidth * 4;
      heap.attend(q, cache.keys[index] as number, cache.values[index] as number, attention + t * numHeads * d * 4, numHeads, numKvHeads, cache.capacity, token.slot + 1, d, scale, padded[token.row] ? this.bias : 0, this.scores);
    });
    this.linear(layer.o, attention, numHeads * d, tokens, rows);
    for (let t = 0; t < N; t++) heap.addInto(residual + t * H * 4, output + t * outputWidth * 4, H);

    // MLP
    for (let t = 0; t < N; t++) heap.rmsNorm(residual + t * H * 4, layer.postAttentionNorm, input + t * inputWidth * 4, H, rmsNormEps);
    this.linear(layer.gateUp, input, inputWidth, tokens, rows); // token t: gate (I) | up (I)
    for (let t = 0; t < N; t++) heap.siluMul(output + t * outputWidth * 4, output + (t * outputWidth + I) * 4, input + t * inputWidth * 4, I); // silu(gate)·up
    this.linear(layer.down, input, inputWidth, tokens, rows);
    for (let t = 0; t < N; t++) heap.addInto(residual + t * H * 4, output + t * outputWidth * 4, H);
  }

  /**
   * output (N, outputWidth): y (Σ out) = x Wᵀ + bias + the mixed adapters' Σ_m z_m Bᵀ_m, with z
   * (Σ R) = x Aᵀ_cat beside it, each token mixed by its row's coefficients; x at `x` (N, in; row
   * stride `xStride` floats).
   */
  private linear(linear: FusedLinear, x: number, xStride: number, tokens: readonly StepToken[], rows: readonly StepRow[]): void {
    const T = tokens.length;
    const heap = this.heap;
    const f32 = heap.f32;
    const output = this.scratch.output;
    const outputWidth = this.outputWidth;
    heap.panelProduct(linear.weights, x, xStride, output, outputWidth, linear.inFeatures, linear.panels, T, false); // [y | z] = x [Wᵀ | Aᵀ_cat]
    if (linear.bias) {
      for (let t = 0; t < T; t++) for (let o = 0; o < linear.outFeatures; o++) f32[output / 4 + t * outputWidth + o] = (f32[output / 4 + t * outputWidth + o] as number) + (linear.bias[o] as number);
    }
    for (const part of linear.parts) {
      const adapterOf = part.rowAdapter; // rank row → adapter
      const zOffset = linear.outFeatures + part.rankOffset;
      for (let t = 0; t < T; t++) {
        const first = output / 4 + t * outputWidth + zOffset;
        const mix = (rows[(tokens[t] as StepToken).row] as StepRow).mix;
        if (this.combination === 'cat') {
          // z ⊙= a[adapter] · b[adapter]
          for (let r = 0; r < part.rank; r++) f32[first + r] = (f32[first + r] as number) * (mix.a[adapterOf[r] as number] as number) * (mix.b[adapterOf[r] as number] as number);
        } else {
          // linear / linear-peft0.4 (equal ranks r): u = Σ_i a_i z_i (r); z_i = b_i u
          const adapters = part.adapters;
          const r = part.rank / adapters.length;
          for (let k = 0; k < r; k++) {
            let u = 0;
            for (let i = 0; i < adapters.length; i++) u += (mix.a[adapters[i] as number] as number) * (f32[first + i * r + k] as number);
            for (let i = 0; i < adapters.length; i++) f32[first + i * r + k] = u * (mix.b[adapters[i] as number] as number);
          }
        }
      }
      // y_m += z_m Bᵀ_m, Bᵀ_m (R_m, out_m)
      heap.matmulT(part.bTransposed, output + zOffset * 4, outputWidth, output + part.column * 4, outputWidth, part.rank, part.outFeatures, T);
    }
  }
}
