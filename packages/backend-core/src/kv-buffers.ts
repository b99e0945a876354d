// A KV cache kept in the backend's own arrays instead of the session's present.* outputs: per layer
// a key and a value array (B, n_kv, capacity, d) with spare positions, grown by doubling. Every
// step feeds them whole as past_key_values (GroupQueryAttention reads only the first cache-length
// positions of each row), fetches just the rows the step appended (one output for all layers,
// (2·L·B, n_kv, T, d)) and writes them after the cache's length — so a decode step copies T
// positions out of the session instead of all of them. A step consumes its cache, so the next
// cache may share and extend the same arrays. Not tensor creation (each backend's session) nor the cache object
// (BackendKvCache).

import { LoraTleError } from '@lora-tle/spec';
import type { PackManifest } from '@lora-tle/spec';
import { pastInputNames, requireAppendedOutputName } from './pack-io-names.js';

/** The fewest positions a cache is allocated with. */
export const MIN_KV_CAPACITY = 64;

/** Positions to allocate for `length`: the next power of two (at least MIN_KV_CAPACITY), at most the model's limit. */
export function kvCapacityFor(length: number, maxPositions: number): number {
  let capacity = MIN_KV_CAPACITY;
  while (capacity < length) capacity *= 2;
  return Math.max(length, Math.min(capacity, maxPositions));
}

export class KvBuffers {
  private constructor(
    readonly batchSize: number,
    private readonly kvHeads: number,
    private readonly headDim: number,
    private readonly maxPositions: number,
    private capacityNow: number,
    private readonly keys: Float32Array[], // per layer (B, n_kv, capacity, d)
    private readonly values: Float32Array[],
  ) {}

  /** Empty arrays for `batchSize` rows of `pack`'s model with room for `length` positions. */
  static create(pack: PackManifest, batchSize: number, length: number): KvBuffers {
    const { numLayers, numKvHeads, headDim, maxPositionEmbeddings } = pack.architecture;
    const capacity = kvCapacityFor(length, maxPositionEmbeddings);
    const size = batchSize * numKvHeads * capacity * headDim;
    const layers = () => Array.from({ length: numLayers }, () => new Float32Array(size));
    return new KvBuffers(batchSize, numKvHeads, headDim, maxPositionEmbeddings, capacity, layers(), layers());
  }

  get capacity(): number {
    return this.capacityNow;
  }

  /** The past_key_values shape of every array: (B, n_kv, capacity, d). */
  get dims(): number[] {
    return [this.batchSize, this.kvHeads, this.capacityNow, this.headDim];
  }

  /** Layer `layer`'s key and value arrays (B, n_kv, capacity, d); replaced by reserve() when it grows. */
  layer(layer: number): { key: Float32Array; value: Float32Array } {
    return { key: this.keys[layer] as Float32Array, value: this.values[layer] as Float32Array };
  }

  /** Makes room for `length` positions, keeping the first `used` of each row (a copy when it grows). */
  reserve(length: number, used: number): void {
    if (length <= this.capacityNow) return;
    const capacity = kvCapacityFor(length, this.maxPositions);
    const rows = this.batchSize * this.kvHeads;
    const grow = (old: Float32Array): Float32Array => {
      const grown = new Float32Array(rows * capacity * this.headDim);
      for (let row = 0; row < rows; row++) {
        const from = row * this.capacityNow * this.headDim;
        grown.set(old.subarray(from, from + used * this.headDim), row * capacity * this.headDim);
      }
      return grown;
    };
    for (let layer = 0; layer < this.keys.length; layer++) {
      this.keys[layer] = grow(this.keys[layer] as Float32Array);
      this.values[layer] = grow(this.values[layer] as Float32Array);
    }
    this.capacityNow = capacity;
  }

  /**
   * Writes one step's appended rows of every layer at positions [at, at + T): `appended` is
   * (2·L·B, n_kv, T, d), layer i's key rows first, then its value rows (pack.io.appended).
   */
  write(appended: Float32Array, at: number, T: number): void {
    const rows = this.batchSize * this.kvHeads; // (B, n_kv) rows per layer and kind
    const { headDim: d, capacityNow: capacity } = this;
    const perArray = rows * T * d;
    if (at + T > capacity || appended.length !== 2 * this.keys.length * perArray) {
      throw new LoraTleError('E_BACKEND_RUN', `the session returned ${appended.length} appended values for ${T} positions at ${at} of ${capacity}, expected (2·L·B, n_kv, T, d) = ${2 * this.keys.length * perArray}; rebuild the pack with \`lora-tle build\``);
    }
    for (let layer = 0; layer < this.keys.length; layer++) {
      const key = this.keys[layer] as Float32Array;
      const value = this.values[layer] as Float32Array;
      const keyStart = 2 * layer * perArray;
      const valueStart = keyStart + perArray;
      for (let row = 0; row < rows; row++) {
        const source = row * T * d;
        const target = (row * capacity + at) * d;
        key.set(appended.subarray(keyStart + source, keyStart + source + T * d), target);
        value.set(appended.subarray(valueStart + source, valueStart + source + T * d), target);
      }
    }
  }
}

/** The past_key_values.{i}.* feeds of `buffers`, (B, n_kv, capacity, d) each, made tensors by `tensor`. */
export function kvBufferFeeds<Tensor>(pack: PackManifest, buffers: KvBuffers, tensor: (data: Float32Array, dims: number[]) => Tensor): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  const dims = buffers.dims;
  pastInputNames(pack).forEach((names, layer) => {
    const { key, value } = buffers.layer(layer);
    feeds[names.key] = tensor(key, dims);
    feeds[names.value] = tensor(value, dims);
  });
  return feeds;
}

/** Writes a run's appended rows (pack.io.appended), T positions at `past`, into `buffers`. */
export function writeAppended(pack: PackManifest, buffers: KvBuffers, outputs: Readonly<Record<string, unknown>>, past: number, T: number): void {
  const appended = (outputs[requireAppendedOutputName(pack)] as { data: unknown } | undefined)?.data;
  if (!(appended instanceof Float32Array)) throw new LoraTleError('E_BACKEND_RUN', `the session returned no float32 ${pack.io.appended ?? 'appended rows'}; rebuild the pack with \`lora-tle build\``);
  buffers.write(appended, past, T);
}
