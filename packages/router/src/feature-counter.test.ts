// Tests the open-addressing feature counter (counts, signed changes, insertion order, growth,
// clearing) and the term-frequency table of the incremental embedding (signed changes, live keys,
// growth, clearing).

import { describe, expect, it } from 'vitest';
import { createFeatureCounter, createTermFrequencyTable } from './feature-counter.js';

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

  it('takes signed changes: nets them per key, visits a cancelled key with 0, and reuses its slot after the visit', () => {
    const counter = createFeatureCounter(4);
    counter.add(7, -1);
    counter.add(9);
    counter.add(7, 1); // cancels
    counter.add(0xfffffff0, -2);
    const seen: Array<[number, number]> = [];
    counter.forEachAndClear((key, count) => seen.push([key, count]));
    expect(seen).toEqual([[7, 0], [9, 1], [0xfffffff0, -2]]);
    counter.add(7, 3);
    const again: Array<[number, number]> = [];
    counter.forEachAndClear((key, count) => again.push([key, count]));
    expect(again).toEqual([[7, 3]]);
  });

  it('term-frequency table: returns the count before each change, tracks live keys, keeps counts through growth', () => {
    const table = createTermFrequencyTable(4);
    const keys = Array.from({ length: 50 }, (_, i) => ((i + 1) * 2654435761) >>> 0);
    keys.forEach((key, i) => expect(table.change(key, i + 1)).toBe(0));
    expect(table.live).toBe(50);
    expect(table.change(keys[7]!, -8)).toBe(8); // back to 0: no longer live, slot kept
    expect(table.live).toBe(49);
    expect(table.change(keys[7]!, 2)).toBe(0);
    expect(table.change(keys[7]!, 0)).toBe(2);
    expect(table.change(0xffffffff, 1)).toBe(0); // the largest key, and -1 as a signed int is the same key
    expect(table.change(-1, 1)).toBe(1);
    keys.forEach((key, i) => i !== 7 && expect(table.change(key, 0)).toBe(i + 1));
    expect(table.live).toBe(51);
    table.clear();
    expect(table.live).toBe(0);
    expect(table.change(keys[0]!, 1)).toBe(0);
  });
});
