// stepFeedArrays: int64 ids/mask/positions with their defaults, (B, N) mix rows, the empty past
// only without a cache; pack IO names per layer.

import { describe, expect, it } from 'vitest';
import { BackendKvCache, presentTensors } from './kv-cache-base.js';
import { emptyPastShape, int64From, stepFeedArrays } from './feed-arrays.js';
import { pastInputNames, stepOutputNames } from './pack-io-names.js';
import { mixRow, smallPack, smallStep } from './test-support.js';

const pack = smallPack();

describe('stepFeedArrays', () => {
  it('prefill: ids as int64, positions 0..T−1, mask all ones, mix rows (B, N), empty past (B, n_kv, 0, d)', () => {
    const step = smallStep({ inputIds: Int32Array.of(3, 4, 5, 6), batchSize: 2, sequenceLength: 2, mix: [mixRow(1, 0, 0), mixRow(0.25, 0.5, 0.25)] });
    const feeds = stepFeedArrays(pack, step, 0);
    expect(feeds.input_ids).toEqual({ type: 'int64', data: BigInt64Array.of(3n, 4n, 5n, 6n), dims: [2, 2] });
    expect(feeds.position_ids).toEqual({ type: 'int64', data: BigInt64Array.of(0n, 1n, 0n, 1n), dims: [2, 2] });
    expect(feeds.attention_mask).toEqual({ type: 'int64', data: BigInt64Array.of(1n, 1n, 1n, 1n), dims: [2, 2] });
    expect(feeds.mix_a).toEqual({ type: 'float32', data: Float32Array.of(1, 0, 0, 0.25, 0.5, 0.25), dims: [2, 3] });
    expect(feeds.mix_b).toEqual({ type: 'float32', data: Float32Array.of(10, 0, 0, 2.5, 5, 2.5), dims: [2, 3] });
    expect(emptyPastShape(pack, 2)).toEqual([2, 2, 0, 4]);
    for (const name of ['past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']) {
      expect(feeds[name]).toEqual({ type: 'float32', data: new Float32Array(0), dims: [2, 2, 0, 4] });
    }
    expect(Object.keys(feeds)).toHaveLength(9);
  });

  it('on a cache: positions continue from the past, mask covers past + T, no past feeds; given positions and mask are used as they are', () => {
    const cache = { backendId: 'test', batchSize: 1, length: 4, dispose() {} };
    const feeds = stepFeedArrays(pack, smallStep({ cache }), 4);
    expect(feeds.position_ids?.data).toEqual(BigInt64Array.of(4n, 5n, 6n));
    expect(feeds.attention_mask?.dims).toEqual([1, 7]);
    expect(feeds.attention_mask?.data).toEqual(new BigInt64Array(7).fill(1n));
    expect(feeds['past_key_values.0.key']).toBeUndefined();
    const given = stepFeedArrays(pack, smallStep({ positionIds: Int32Array.of(0, 0, 1), attentionMask: Uint8Array.of(0, 1, 1) }), 0);
    expect(given.position_ids?.data).toEqual(BigInt64Array.of(0n, 0n, 1n));
    expect(given.attention_mask?.data).toEqual(BigInt64Array.of(0n, 1n, 1n));
  });
});

describe('logits_to_keep', () => {
  it('asks a pack that has the input for the last position only, or for all T with logits all; older packs get no such feed', () => {
    const withKeep = { ...pack, io: { ...pack.io, logitsToKeep: 'logits_to_keep' } };
    const step = smallStep({ inputIds: Int32Array.of(3, 4, 5), sequenceLength: 3 });
    expect(stepFeedArrays(withKeep, step, 0).logits_to_keep).toEqual({ type: 'int64', data: BigInt64Array.of(1n), dims: [1] });
    expect(stepFeedArrays(withKeep, { ...step, logits: 'all' }, 0).logits_to_keep?.data).toEqual(BigInt64Array.of(3n));
    expect(stepFeedArrays(pack, step, 0).logits_to_keep).toBeUndefined();
  });
});

describe('int64From', () => {
  it('equals BigInt of every value over the int32 range, negatives and zero included', () => {
    const values = Int32Array.of(0, 1, -1, 2, 31999, -2147483648, 2147483647, 1024, -7);
    expect(int64From(values)).toEqual(BigInt64Array.from(values, (value) => BigInt(value)));
    expect(int64From(Uint8Array.of(0, 1, 1, 0))).toEqual(BigInt64Array.of(0n, 1n, 1n, 0n));
    expect(int64From([])).toEqual(new BigInt64Array(0));
  });
});

describe('pack IO names and the cache base', () => {
  it('fills the {i} templates per layer and lists the outputs of a step', () => {
    expect(pastInputNames(pack)).toEqual([
      { key: 'past_key_values.0.key', value: 'past_key_values.0.value' },
      { key: 'past_key_values.1.key', value: 'past_key_values.1.value' },
    ]);
    expect(stepOutputNames(pack, true)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    expect(stepOutputNames({ ...pack, io: { ...pack.io, hidden: 'hidden' } }, true).at(-1)).toBe('hidden');
    expect(stepOutputNames({ ...pack, io: { ...pack.io, hidden: 'hidden' } }, false)).toHaveLength(5);
    expect(stepOutputNames(pack, false)).toEqual(stepOutputNames(pack, true)); // this pack has no hidden output
    expect(pastInputNames(pack)).toBe(pastInputNames(pack)); // made once per manifest, read every step
    expect(Object.isFrozen(stepOutputNames(pack, true))).toBe(true);
  });

  it('a cache feeds its tensors as the past, disposes them once, and refuses use after dispose', () => {
    class TestCache extends BackendKvCache<{ name: string; dispose(): void }> {
      readonly backendId = 'test';
    }
    const disposed: string[] = [];
    const tensor = (name: string) => ({ name, dispose: () => disposed.push(name) });
    const outputs = { 'present.0.key': tensor('k0'), 'present.0.value': tensor('v0'), 'present.1.key': tensor('k1'), 'present.1.value': tensor('v1') };
    const { keys, values } = presentTensors<{ name: string; dispose(): void }>(pack, outputs);
    const cache = new TestCache(1, 3, keys, values, {});
    const feeds = cache.pastFeeds(pack);
    expect(Object.fromEntries(Object.entries(feeds).map(([name, value]) => [name, value.name]))).toEqual({
      'past_key_values.0.key': 'k0', 'past_key_values.0.value': 'v0', 'past_key_values.1.key': 'k1', 'past_key_values.1.value': 'v1',
    });
    cache.dispose();
    cache.dispose();
    expect(disposed).toEqual(['k0', 'k1', 'v0', 'v1']);
    expect(cache.isDisposed).toBe(true);
    expect(() => cache.pastFeeds(pack)).toThrow(expect.objectContaining({ code: 'E_BACKEND_DISPOSED' }));
  });
});
