// Tests the open-addressing feature counter: counts, insertion order, growth, clearing.

import { describe, expect, it } from 'vitest';
import { createFeatureCounter } from './feature-counter.js';

describe('feature counter', () => {
  it('counts keys in insertion order, grows past its capacity, and empties on flush', () => {
    const counter = createFeatureCounter(8);
    const keys = Array.from({ length: 100 }, (_, i) => (i * 2654435761) >>> 0);
    for (const key of keys) counter.add(key);
    counter.add(keys[3]!);
    counter.add(keys[3]!);
    counter.add(0); // key 0 is a valid key
    const seen: Array<[number, number]> = [];
    counter.forEachAndClear((key, count) => seen.push([key, count]));
    expect(seen.length).toBe(100); // keys[0] is 0, so add(0) counted it again
    expect(seen.map(([key]) => key)).toEqual(keys);
    expect(seen[3]).toEqual([keys[3], 3]);
    expect(seen[0]).toEqual([0, 2]);
    const after: number[] = [];
    counter.forEachAndClear((key) => after.push(key));
    expect(after).toEqual([]);
  });
});
