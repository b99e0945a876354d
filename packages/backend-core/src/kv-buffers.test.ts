// KvBuffers: capacities, rows written where (B, n_kv, capacity, d) puts them, growth that keeps the
// used positions of every row, and the fetch lists of the appended rows' output.

import { describe, expect, it } from 'vitest';
import { isLoraTleError } from '@lora-tle/spec';
import { KvBuffers, kvBufferFeeds, kvCapacityFor, MIN_KV_CAPACITY, writeAppended } from './kv-buffers.js';
import { appendedOutputName, graphOutputNames, stepOutputNames } from './pack-io-names.js';
import { smallPack } from './test-support.js';

/** A pack of 2 layers, n_kv 2, d 4 with room for `positions`. */
function packWith(positions: number) {
  const pack = smallPack();
  pack.architecture.maxPositionEmbeddings = positions;
  return pack;
}

/** Rows (B, n_kv, T, d) whose value encodes (row, position, dim) as row·1000 + (at + t)·10 + dim. */
function rows(B: number, kv: number, T: number, d: number, at: number): Float32Array {
  const values = new Float32Array(B * kv * T * d);
  for (let row = 0; row < B * kv; row++) for (let t = 0; t < T; t++) for (let dim = 0; dim < d; dim++) values[(row * T + t) * d + dim] = row * 1000 + (at + t) * 10 + dim;
  return values;
}

/** One run's appended output (2·L·B, n_kv, T, d): each layer's key rows, then its value rows. */
function appended(layers: readonly (readonly [Float32Array, Float32Array])[]): Float32Array {
  const parts = layers.flatMap(([key, value]) => [key, value]);
  const result = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/** Position `position` of row `row` (a (batch, kv head) pair) in an array of `capacity` positions, d = 4. */
const positionOf = (array: Float32Array, capacity: number, row: number, position: number) => [...array.subarray((row * capacity + position) * 4, (row * capacity + position + 1) * 4)];

describe('kvCapacityFor', () => {
  it('is the next power of two from MIN_KV_CAPACITY, capped by the model, never below the length', () => {
    expect(kvCapacityFor(1, 4096)).toBe(MIN_KV_CAPACITY);
    expect(kvCapacityFor(64, 4096)).toBe(64);
    expect(kvCapacityFor(65, 4096)).toBe(128);
    expect(kvCapacityFor(1000, 4096)).toBe(1024);
    expect(kvCapacityFor(300, 300)).toBe(300);
    expect(kvCapacityFor(200, 300)).toBe(256);
    expect(kvCapacityFor(10, 16)).toBe(16);
  });
});

describe('KvBuffers', () => {
  it('writes each row’s appended positions after the cache length and keeps them when it grows', () => {
    const buffers = KvBuffers.create(packWith(1024), 2, 50); // B 2 × n_kv 2 = 4 rows
    expect(buffers.capacity).toBe(64);
    expect(buffers.dims).toEqual([2, 2, 64, 4]);
    const zeros = (T: number) => new Float32Array(2 * 2 * T * 4);
    buffers.write(appended([[zeros(50), zeros(50)], [rows(2, 2, 50, 4, 0), rows(2, 2, 50, 4, 0).map((value) => -value)]]), 0, 50);
    buffers.reserve(60, 50); // fits: nothing moves
    const before = buffers.layer(1).key;
    buffers.write(appended([[zeros(10), zeros(10)], [rows(2, 2, 10, 4, 50), rows(2, 2, 10, 4, 50)]]), 50, 10);
    expect(buffers.layer(1).key).toBe(before);
    expect(positionOf(before, 64, 3, 59)).toEqual([3590, 3591, 3592, 3593]);

    buffers.reserve(65, 60); // one past 64: doubles
    expect(buffers.capacity).toBe(128);
    expect(buffers.dims).toEqual([2, 2, 128, 4]);
    const { key, value } = buffers.layer(1);
    expect(key.length).toBe(4 * 128 * 4);
    for (const row of [0, 1, 2, 3]) {
      expect(positionOf(key, 128, row, 0)).toEqual([row * 1000, row * 1000 + 1, row * 1000 + 2, row * 1000 + 3]);
      expect(positionOf(key, 128, row, 59)).toEqual([row * 1000 + 590, row * 1000 + 591, row * 1000 + 592, row * 1000 + 593]);
      expect(positionOf(key, 128, row, 60)).toEqual([0, 0, 0, 0]);
    }
    expect(positionOf(value, 128, 2, 49)).toEqual([-2490, -2491, -2492, -2493]);
    expect(positionOf(buffers.layer(0).key, 128, 3, 10)).toEqual([0, 0, 0, 0]); // layer 0 was written zeros
  });

  it('refuses rows of the wrong shape or beyond its capacity', () => {
    const buffers = KvBuffers.create(packWith(1024), 1, 4); // 64 positions
    const codeOf = (write: () => void): unknown => {
      try {
        write();
      } catch (caught) {
        return isLoraTleError(caught) ? caught.code : caught;
      }
      return null;
    };
    const twoPositions = (at: number) => appended([0, 1].map(() => [rows(1, 2, 2, 4, at), rows(1, 2, 2, 4, at)] as const));
    expect(codeOf(() => buffers.write(new Float32Array(7), 0, 1))).toBe('E_BACKEND_RUN');
    expect(codeOf(() => buffers.write(twoPositions(0), 0, 1))).toBe('E_BACKEND_RUN'); // rows of 2 positions for 1
    expect(codeOf(() => buffers.write(twoPositions(63), 63, 2))).toBe('E_BACKEND_RUN'); // beyond 64
    expect(codeOf(() => buffers.write(twoPositions(62), 62, 2))).toBeNull();
  });
});

describe('kvBufferFeeds and writeAppended', () => {
  it('feed every layer’s arrays as the past and write every layer’s appended rows back', () => {
    const pack = packWith(1024);
    pack.io.appended = 'appended_key_values';
    const buffers = KvBuffers.create(pack, 1, 3);
    const outputs = { appended_key_values: { data: appended([0, 1].map((layer) => [rows(1, 2, 3, 4, 0).map((value) => value + layer), rows(1, 2, 3, 4, 0).map((value) => -value - layer)] as const)) } };
    writeAppended(pack, buffers, outputs, 0, 3);
    const feeds = kvBufferFeeds(pack, buffers, (data, dims) => ({ data, dims }));
    expect(Object.keys(feeds).sort()).toEqual(['past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect(feeds['past_key_values.1.key']!.dims).toEqual([1, 2, 64, 4]);
    expect(positionOf(feeds['past_key_values.1.key']!.data, 64, 1, 2)).toEqual([1021, 1022, 1023, 1024]);
    expect(positionOf(feeds['past_key_values.0.value']!.data, 64, 0, 1)).toEqual([-10, -11, -12, -13]);
    expect(positionOf(feeds['past_key_values.1.value']!.data, 64, 0, 0)).toEqual([-1, -2, -3, -4]);
    expect(positionOf(feeds['past_key_values.0.key']!.data, 64, 1, 3)).toEqual([0, 0, 0, 0]); // after the cache
    expect(() => writeAppended(smallPack(), buffers, outputs, 3, 3)).toThrow(/rebuild it/);
    expect(() => writeAppended(pack, buffers, {}, 3, 3)).toThrow(/returned no float32 appended_key_values/);
  });
});

describe('the appended rows\' output', () => {
  it('is fetched instead of present.* on request, and is null for a pack without it', () => {
    const older = smallPack();
    expect(appendedOutputName(older)).toBeNull();
    expect(graphOutputNames(older)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    expect(() => stepOutputNames(older, false, 'appended')).toThrow(/rebuild it/);

    const pack = smallPack();
    pack.io.appended = 'appended_key_values';
    expect(stepOutputNames(pack, false, 'appended')).toEqual(['logits', 'appended_key_values']);
    expect(stepOutputNames(pack, false)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    expect(graphOutputNames(pack)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value', 'appended_key_values']);

    const perLayer = smallPack(); // the layout of 9e3c221…: one output per layer and kind, read as none
    Object.assign(perLayer.io, { appendedKey: 'appended.{i}.key', appendedValue: 'appended.{i}.value' });
    expect(appendedOutputName(perLayer)).toBeNull();
  });
});
