// startKvStep / finishKvStep with fake tensors: the present.* path, the arrays path (first step,
// later step, growth), keepCache false on both, and a device-resident present.* (WebGPU).

import { describe, expect, it } from 'vitest';
import type { KvCache } from '@lora-tle/spec';
import { KvBuffers } from './kv-buffers.js';
import { BackendKvCache } from './kv-cache-base.js';
import { finishKvStep, startKvStep } from './kv-step.js';
import { smallPack, smallStep } from './test-support.js';

class FakeTensor {
  disposed = false;
  constructor(readonly data: Float32Array, readonly dims: number[]) {}
  dispose(): void {
    this.disposed = true;
  }
}
class FakeCache extends BackendKvCache<FakeTensor> implements KvCache {
  readonly backendId = 'fake';
}
const owner = {};
const tensor = (data: Float32Array, dims: number[]) => new FakeTensor(data, dims);
const withAppended = () => {
  const pack = smallPack(); // 2 layers, n_kv 2, d 4, 16 positions
  pack.io.appended = 'appended_key_values';
  return pack;
};
/** Outputs of a run of T tokens: present.* of `total` positions and the appended rows of T (each layer's filled with layer + 1), all fake. */
function outputs(T: number, total: number): Record<string, FakeTensor> {
  const result: Record<string, FakeTensor> = {};
  const appended = new Float32Array(2 * 2 * 2 * T * 4); // (2·L·B, n_kv, T, d)
  for (const layer of [0, 1]) {
    for (const kind of ['key', 'value']) result[`present.${layer}.${kind}`] = tensor(new Float32Array(2 * total * 4), [1, 2, total, 4]);
    appended.fill(layer + 1, layer * 2 * 2 * T * 4, (layer + 1) * 2 * 2 * T * 4);
  }
  result['appended_key_values'] = tensor(appended, [4, 2, T, 4]);
  return result;
}

describe('startKvStep and finishKvStep', () => {
  it('present.* path: feeds the cache’s tensors and takes the new present.* as the next cache', () => {
    const pack = smallPack();
    const keys = [tensor(new Float32Array(16), [1, 2, 2, 4]), tensor(new Float32Array(16), [1, 2, 2, 4])];
    const cache = new FakeCache(1, 2, keys, keys.map((k) => tensor(k.data, k.dims)), owner);
    const step = startKvStep(pack, smallStep({ cache }), 2, cache, false, tensor);
    expect(step.fetch).toBe('present');
    expect(step.pastFeeds['past_key_values.0.key']).toBe(keys[0]);
    const out = outputs(3, 5);
    const next = finishKvStep(pack, step, out, 2, 3, false);
    expect(next.keys[1]).toBe(out['present.1.key']);
    expect(next.buffers).toBeNull();
    expect(next.dispose).toBe(false);
  });

  it('arrays path: a first step makes arrays and writes the appended rows; the next feeds them with spare positions', () => {
    const pack = withAppended();
    const first = startKvStep(pack, smallStep(), 0, null, true, tensor);
    expect(first.fetch).toBe('appended');
    expect(first.buffers?.capacity).toBe(16); // the model's 16 positions cap the 64 minimum
    expect(first.pastFeeds['past_key_values.1.value']?.dims).toEqual([1, 2, 16, 4]);
    const done = finishKvStep(pack, first, outputs(3, 16), 0, 3, false);
    expect(done.buffers).toBe(first.buffers);
    expect(done.keys).toEqual([]);
    expect(Array.from(done.buffers!.layer(1).key.subarray(0, 12))).toEqual(new Array(12).fill(2));
    expect(done.buffers!.layer(1).key[12]).toBe(0); // position 3 of row 0 not written yet

    const cache = new FakeCache(1, 3, [], [], owner, done.buffers);
    const second = startKvStep(pack, smallStep({ inputIds: Int32Array.of(4), sequenceLength: 1, cache }), 3, cache, true, tensor);
    expect(second.buffers).toBe(done.buffers);
    expect(second.pastFeeds['past_key_values.0.key']?.data).toBe(done.buffers!.layer(0).key);
    cache.dispose(); // consumed: it lets go of the arrays and refuses to be fed again
    expect(() => cache.ownBuffers()).toThrow(/disposed/);
    expect((cache as unknown as { buffers: unknown }).buffers).toBeNull();
  });

  it('keepCache false fetches no K/V and leaves nothing to keep, on either path and on a device', () => {
    const arrays = withAppended();
    const none = startKvStep(arrays, smallStep({ keepCache: false }), 0, null, true, tensor);
    expect(none).toEqual({ pastFeeds: {}, fetch: 'none', keep: false, buffers: null });
    expect(finishKvStep(arrays, none, {}, 0, 3, false)).toEqual({ keys: [], values: [], buffers: null, dispose: true });

    const buffers = KvBuffers.create(arrays, 1, 3);
    const cache = new FakeCache(1, 3, [], [], owner, buffers);
    const onArrays = startKvStep(arrays, smallStep({ inputIds: Int32Array.of(4), sequenceLength: 1, cache, keepCache: false }), 3, cache, true, tensor);
    expect(onArrays.fetch).toBe('none');
    expect(onArrays.pastFeeds['past_key_values.0.key']?.data).toBe(buffers.layer(0).key); // still the past

    // WebGPU: every output was fetched; the appended rows are disposed, present.* handed over to be disposed
    const onDevice = startKvStep(arrays, smallStep({ keepCache: false }), 0, null, false, tensor);
    const out = outputs(3, 3);
    const result = finishKvStep(arrays, onDevice, out, 0, 3, true);
    expect(out['appended_key_values']!.disposed).toBe(true);
    expect(result.keys[0]).toBe(out['present.0.key']);
    expect(result.dispose).toBe(true);
  });
});
