// The KV cache of one batch on the simd backend: one block of the kernels' memory holding, per row
// and layer, keys and values (n_kv, capacity, d) with spare positions, grown by doubling as
// backend-core's KvBuffers are. A step consumes its cache and hands the block on to the next one, so
// decoding copies nothing; only growth copies. Opaque to the engine (spec KvCache); ownership and
// disposal checks are BackendKvCache's. Not the attention (decoder-step.ts).

import { BackendKvCache, kvCapacityFor, type DisposableTensor } from '@lora-tle/backend-core';
import type { LlamaArchitecture } from '@lora-tle/spec';
import type { RowCache } from './decoder-step.js';
import type { WasmHeap } from './wasm-heap.js';

export const SIMD_BACKEND_ID = 'simd';

/** A block of (B, L, key|value, n_kv, capacity, d) floats. */
export class KvBlock {
  private readonly rows: RowCache[] = []; // row() once per row: the block's addresses never move

  private constructor(
    private readonly heap: WasmHeap,
    private readonly arch: LlamaArchitecture,
    readonly batchSize: number,
    readonly capacity: number,
    readonly at: number,
  ) {}

  /** Room for `length` positions of `batchSize` rows (capacity doubling from 64, at most the model's positions). */
  static create(heap: WasmHeap, arch: LlamaArchitecture, batchSize: number, length: number): KvBlock {
    const capacity = kvCapacityFor(length, arch.maxPositionEmbeddings);
    const floats = batchSize * arch.numLayers * 2 * arch.numKvHeads * capacity * arch.headDim;
    return new KvBlock(heap, arch, batchSize, capacity, heap.alloc(floats, 'the KV cache'));
  }

  /** Byte address of row `row`, layer `layer`, keys (0) or values (1): (n_kv, capacity, d). */
  address(row: number, layer: number, kind: 0 | 1): number {
    const { numLayers, numKvHeads, headDim } = this.arch;
    return this.at + ((row * numLayers + layer) * 2 + kind) * numKvHeads * this.capacity * headDim * 4;
  }

  /** Where row `row`'s cache lives, for the decoder. */
  row(row: number): RowCache {
    let cache = this.rows[row];
    if (!cache) {
      const layers = Array.from({ length: this.arch.numLayers }, (_, layer) => layer);
      cache = { keys: layers.map((layer) => this.address(row, layer, 0)), values: layers.map((layer) => this.address(row, layer, 1)), capacity: this.capacity };
      this.rows[row] = cache;
    }
    return cache;
  }

  /** This block when it holds `length` positions, else a larger one with the first `used` copied over (this one released). */
  reserve(length: number, used: number): KvBlock {
    if (length <= this.capacity) return this;
    const grown = KvBlock.create(this.heap, this.arch, this.batchSize, length);
    const { numLayers, numKvHeads, headDim: d } = this.arch;
    const f32 = this.heap.f32;
    for (let row = 0; row < this.batchSize; row++) {
      for (let layer = 0; layer < numLayers; layer++) {
        for (const kind of [0, 1] as const) {
          for (let head = 0; head < numKvHeads; head++) {
            const from = this.address(row, layer, kind) / 4 + head * this.capacity * d;
            f32.copyWithin(grown.address(row, layer, kind) / 4 + head * grown.capacity * d, from, from + used * d);
          }
        }
      }
    }
    this.release();
    return grown;
  }

  release(): void {
    this.heap.release(this.at);
  }
}

export class SimdKvCache extends BackendKvCache<DisposableTensor> {
  readonly backendId = SIMD_BACKEND_ID;
  private block: KvBlock | null;

  constructor(batchSize: number, length: number, block: KvBlock, owner: object) {
    super(batchSize, length, [], [], owner);
    this.block = block;
  }

  /** The block, for the step that consumes this cache; throws E_BACKEND_DISPOSED when disposed or consumed. */
  consume(): KvBlock {
    this.tensors(); // the disposal check
    const block = this.block as KvBlock;
    this.block = null;
    super.dispose();
    return block;
  }

  override dispose(): void {
    this.block?.release();
    this.block = null;
    super.dispose();
  }
}
