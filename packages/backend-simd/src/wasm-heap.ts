// One WebAssembly instance of the kernels (kernels.wat) and the linear memory they read: every
// weight, activation and KV cache of a session lives in it, placed by a first-fit allocator over
// 16-byte-aligned blocks. Memory only grows (WebAssembly cannot shrink it); freed blocks are reused.
// Not the model layout (pack-weights.ts) nor the forward (decoder-step.ts).

import { LoraTleError } from '@lora-tle/spec';
import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';

const PAGE_BYTES = 65536;
/** wasm32 addresses 4 GiB; engines cap memory at 65,536 pages. */
const MAX_PAGES = 65536;
const ALIGN = 16;
/** Columns of a panel of packed weights (placePanels, kernels.wat panelMatvec). */
export const PANEL_COLUMNS = 16;

/** Panels of a packed matrix of `cols` columns. */
export function panelsOf(cols: number): number {
  return Math.ceil(cols / PANEL_COLUMNS);
}

interface KernelExports {
  memory: WebAssembly.Memory;
  matvec(w: number, x: number, y: number, rows: number, cols: number, accumulate: number): void;
  matvecT(w: number, x: number, y: number, rows: number, cols: number): void;
  matmulT4(w: number, x: number, xStride: number, y: number, yStride: number, rows: number, cols: number): void;
  panelMatvec(w: number, x: number, y: number, rows: number, panels: number, accumulate: number): void;
  panelMatmul4(w: number, x: number, xStride: number, y: number, yStride: number, rows: number, panels: number, accumulate: number): void;
  softmax(s: number, n: number, scale: number): void;
  siluMul(gate: number, up: number, out: number, n: number): void;
  rmsNorm(x: number, weight: number, out: number, n: number, eps: number): void;
  addInto(x: number, y: number, n: number): void;
  rope(at: number, heads: number, half: number, cos: number, sin: number): void;
  attend(q: number, keys: number, values: number, out: number, heads: number, kvHeads: number, capacity: number, slots: number, d: number, scale: number, bias: number, scores: number): void;
}

let compiled: Promise<WebAssembly.Module> | null = null;

function kernelBytes(): Uint8Array<ArrayBuffer> {
  const text = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export class WasmHeap {
  private view: Float32Array;
  private top = ALIGN; // 0 stays unused, so no block starts at the null address
  private readonly sizes = new Map<number, number>(); // live block → bytes
  private readonly freeBlocks: { at: number; bytes: number }[] = []; // sorted by address

  private constructor(private readonly kernels: KernelExports) {
    this.view = new Float32Array(kernels.memory.buffer);
  }

  /** A fresh instance (its own memory); the module is compiled once per process. */
  static async create(): Promise<WasmHeap> {
    if (!WebAssembly.validate(kernelBytes())) {
      throw new LoraTleError('E_BACKEND_UNSUPPORTED', 'this JavaScript engine has no WebAssembly SIMD (Node ≥ 16.4, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4); use the node or web backend');
    }
    compiled ??= WebAssembly.compile(kernelBytes());
    const instance = await WebAssembly.instantiate(await compiled, {});
    return new WasmHeap(instance.exports as unknown as KernelExports);
  }

  /** The float32 view of all of memory; take it again after alloc() (growth replaces the buffer). */
  get f32(): Float32Array {
    if (this.view.buffer !== this.kernels.memory.buffer) this.view = new Float32Array(this.kernels.memory.buffer);
    return this.view;
  }

  /** Bytes of memory in use by the instance (allocated or free). */
  get byteLength(): number {
    return this.kernels.memory.buffer.byteLength;
  }

  /** A block of `floats` float32 values, zeroed; returns its byte address. */
  alloc(floats: number, what: string): number {
    const bytes = Math.ceil((floats * 4) / ALIGN) * ALIGN || ALIGN;
    const index = this.freeBlocks.findIndex((block) => block.bytes >= bytes);
    let at: number;
    if (index >= 0) {
      const block = this.freeBlocks[index] as { at: number; bytes: number };
      at = block.at;
      if (block.bytes === bytes) this.freeBlocks.splice(index, 1);
      else this.freeBlocks[index] = { at: at + bytes, bytes: block.bytes - bytes };
    } else {
      at = this.top;
      const needed = at + bytes;
      const pages = Math.ceil(needed / PAGE_BYTES);
      const current = this.kernels.memory.buffer.byteLength / PAGE_BYTES;
      if (pages > MAX_PAGES) {
        throw new LoraTleError(
          'E_BACKEND_UNSUPPORTED',
          `the simd backend keeps a model in one WebAssembly memory of at most 4 GiB, and ${what} would need ${(needed / 2 ** 30).toFixed(2)} GiB; run this pack on the node backend`,
        );
      }
      if (pages > current) this.kernels.memory.grow(pages - current);
      this.top = needed;
    }
    this.sizes.set(at, bytes);
    this.f32.fill(0, at / 4, (at + bytes) / 4);
    return at;
  }

  /** Returns a block to the allocator (adjacent free blocks are merged). */
  release(at: number): void {
    const bytes = this.sizes.get(at);
    if (bytes === undefined) return;
    this.sizes.delete(at);
    let index = this.freeBlocks.findIndex((block) => block.at > at);
    if (index < 0) index = this.freeBlocks.length;
    this.freeBlocks.splice(index, 0, { at, bytes });
    for (let i = Math.max(0, index - 1); i < this.freeBlocks.length - 1; ) {
      const block = this.freeBlocks[i] as { at: number; bytes: number };
      const next = this.freeBlocks[i + 1] as { at: number; bytes: number };
      if (block.at + block.bytes === next.at) {
        block.bytes += next.bytes;
        this.freeBlocks.splice(i + 1, 1);
      } else if (i >= index) break;
      else i++;
    }
  }

  /** y (rows) = W (rows, cols) · x (cols), or y += that with `accumulate`; byte addresses. */
  matvec(w: number, x: number, y: number, rows: number, cols: number, accumulate: boolean): void {
    this.kernels.matvec(w, x, y, rows, cols, accumulate ? 1 : 0);
  }

  /**
   * Y (tokens, cols) += X (tokens, rows) · W (rows, cols): token t reads x + t·xStride floats and
   * adds into y + t·yStride. Four tokens per kernel call, the rest one at a time; byte addresses.
   */
  matmulT(w: number, x: number, xStride: number, y: number, yStride: number, rows: number, cols: number, tokens: number): void {
    let t = 0;
    for (; t + 4 <= tokens; t += 4) this.kernels.matmulT4(w, x + t * xStride * 4, xStride, y + t * yStride * 4, yStride, rows, cols);
    for (; t < tokens; t++) this.kernels.matvecT(w, x + t * xStride * 4, y + t * yStride * 4, rows, cols);
  }

  /**
   * Y (tokens, 16·panels) = X (tokens, rows) · W, or Y += that with `accumulate`, W packed in
   * panels of 16 columns (placePanels): token t reads x + t·xStride floats and writes y + t·yStride.
   * Four tokens per kernel call, the rest one at a time; byte addresses.
   */
  panelProduct(w: number, x: number, xStride: number, y: number, yStride: number, rows: number, panels: number, tokens: number, accumulate: boolean): void {
    const add = accumulate ? 1 : 0;
    let t = 0;
    for (; t + 4 <= tokens; t += 4) this.kernels.panelMatmul4(w, x + t * xStride * 4, xStride, y + t * yStride * 4, yStride, rows, panels, add);
    for (; t < tokens; t++) this.kernels.panelMatvec(w, x + t * xStride * 4, y + t * yStride * 4, rows, panels, add);
  }

  /**
   * Places a (rows, cols) matrix, `at(r, c)` its entries, packed in panels of 16 columns for
   * panelProduct — panel j is columns 16j..16j+15 of every row, (rows, 16) contiguous, the last
   * padded with zeros — and returns its address; `panelsOf(cols)` panels.
   */
  placePanels(rows: number, cols: number, at: (row: number, col: number) => number, what: string): number {
    const panels = panelsOf(cols);
    const address = this.alloc(panels * rows * PANEL_COLUMNS, what);
    const memory = this.f32;
    memory.fill(0, address / 4, address / 4 + panels * rows * PANEL_COLUMNS);
    for (let c = 0; c < cols; c++) {
      const column = address / 4 + Math.floor(c / PANEL_COLUMNS) * rows * PANEL_COLUMNS + (c % PANEL_COLUMNS);
      for (let r = 0; r < rows; r++) memory[column + r * PANEL_COLUMNS] = at(r, c);
    }
    return address;
  }

  /** s (n) ← softmax(s · scale), in place; byte address. */
  softmax(s: number, n: number, scale: number): void {
    this.kernels.softmax(s, n, scale);
  }

  /** out (n) ← silu(gate) · up; byte addresses (out may be gate or up). */
  siluMul(gate: number, up: number, out: number, n: number): void {
    this.kernels.siluMul(gate, up, out, n);
  }

  /** out (n) ← RMSNorm(x) · weight; byte addresses. */
  rmsNorm(x: number, weight: number, out: number, n: number, eps: number): void {
    this.kernels.rmsNorm(x, weight, out, n, eps);
  }

  /** x (n) += y (n); byte addresses. */
  addInto(x: number, y: number, n: number): void {
    this.kernels.addInto(x, y, n);
  }

  /** rotate_half RoPE of `heads` consecutive heads (2·half floats each) at `at`, with one position's cos and sin rows (half each). */
  rope(at: number, heads: number, half: number, cos: number, sin: number): void {
    this.kernels.rope(at, heads, half, cos, sin);
  }

  /**
   * One token's grouped-query attention: query heads at q (heads·d) against keys and values
   * (kvHeads, capacity, d) over the first `slots` slots, scaled, plus `bias` (slots; 0 = none),
   * softmax, into out (heads·d). `scores`: scratch of `slots` floats. Byte addresses.
   */
  attend(q: number, keys: number, values: number, out: number, heads: number, kvHeads: number, capacity: number, slots: number, d: number, scale: number, bias: number, scores: number): void {
    this.kernels.attend(q, keys, values, out, heads, kvHeads, capacity, slots, d, scale, bias, scores);
  }
}
