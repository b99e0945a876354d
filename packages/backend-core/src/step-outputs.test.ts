// selectLogits picks the last position of every row for 'last' (or passes the graph's own last
// position through); checkedHidden refuses a wrong size.

import { describe, expect, it } from 'vitest';
import { checkedHidden, selectLogits } from './step-outputs.js';

describe('selectLogits', () => {
  // (B 2, T 3, V 2): value = 100·row + 10·t + v
  const all = Float32Array.from({ length: 12 }, (_, i) => 100 * Math.floor(i / 6) + 10 * Math.floor((i % 6) / 2) + (i % 2));

  it("'last' (default) keeps position T−1 of each row: (B, 1, V)", () => {
    expect(selectLogits(all, 2, 3, 2)).toEqual({ logits: Float32Array.of(20, 21, 120, 121), logitsPositions: 1 });
    expect(selectLogits(all, 2, 3, 2, 'last').logits).toEqual(Float32Array.of(20, 21, 120, 121));
  });

  it("'all' and single-token steps return the logits as they are", () => {
    expect(selectLogits(all, 2, 3, 2, 'all')).toEqual({ logits: all, logitsPositions: 3 });
    const decode = Float32Array.of(1, 2, 3, 4);
    expect(selectLogits(decode, 2, 1, 2).logits).toBe(decode);
    expect(selectLogits(decode, 2, 1, 2).logitsPositions).toBe(1);
  });

  it("'last' passes through logits the graph already cut to the last position (logits_to_keep = 1)", () => {
    const lastOnly = Float32Array.of(20, 21, 120, 121); // (B 2, 1, V 2) for a 3-token step
    expect(selectLogits(lastOnly, 2, 3, 2)).toEqual({ logits: lastOnly, logitsPositions: 1 });
  });
});

describe('checkedHidden', () => {
  it('passes (B, H) through and refuses any other size with E_BACKEND_RUN', () => {
    const hidden = new Float32Array(6);
    expect(checkedHidden(hidden, 2, 3)).toBe(hidden);
    expect(() => checkedHidden(hidden, 2, 4)).toThrow(expect.objectContaining({ code: 'E_BACKEND_RUN', message: 'hidden output has 6 values, expected 8' }));
  });
});
