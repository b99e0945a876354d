// selectLogits picks the last position of every row for 'last' (or passes the graph's own last
// position through); stepHidden passes a pooled hidden output through or pools a per-position one
// over the step's real tokens, and refuses a wrong size.

import { describe, expect, it } from 'vitest';
import { selectLogits, stepHidden } from './step-outputs.js';
import { smallPack, smallStep } from './test-support.js';

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

describe('stepHidden', () => {
  const pooledPack = { ...smallPack(), io: { ...smallPack().io, hidden: 'hidden_pooled' } }; // H = 8
  const perPositionPack = { ...pooledPack, io: { ...pooledPack.io, hidden: 'last_hidden_state', hiddenPerPosition: true } };
  const step = (B: number, T: number, attentionMask?: Uint8Array) => smallStep({ inputIds: new Int32Array(B * T), batchSize: B, sequenceLength: T, ...(attentionMask ? { attentionMask } : {}) });

  it('passes a graph-pooled (B, H) through and refuses any other size with E_BACKEND_RUN', () => {
    const hidden = new Float32Array(16);
    expect(stepHidden(pooledPack, hidden, step(2, 3), 0)).toBe(hidden);
    expect(() => stepHidden(pooledPack, new Float32Array(6), step(2, 3), 0)).toThrow(expect.objectContaining({ code: 'E_BACKEND_RUN', message: 'hidden output has 6 values, expected 16' }));
  });

  it('pools per-position states (B, T, H) over the positions of this step whose mask is 1', () => {
    // (B 2, T 3, H 8): value = 100·row + 10·t + j; past 2, so the step's mask columns are 2..4
    const states = Float32Array.from({ length: 48 }, (_, i) => 100 * Math.floor(i / 24) + 10 * Math.floor((i % 24) / 8) + (i % 8));
    const mask = Uint8Array.of(1, 1, 0, 1, 1, /* row 1 */ 0, 0, 0, 0, 1); // row 0 keeps t 1, 2; row 1 keeps t 2
    const pooled = stepHidden(perPositionPack, states, step(2, 3, mask), 2);
    expect(Array.from(pooled.subarray(0, 8))).toEqual(Array.from({ length: 8 }, (_, j) => 15 + j));
    expect(Array.from(pooled.subarray(8))).toEqual(Array.from({ length: 8 }, (_, j) => 120 + j));
    expect(Array.from(stepHidden(perPositionPack, states, step(2, 3), 0).subarray(0, 2))).toEqual([10, 11]); // no mask: mean of t 0..2
    expect(Array.from(stepHidden(perPositionPack, states, step(2, 3, new Uint8Array(10)), 2))).toEqual(new Array(16).fill(0)); // no real token
    expect(() => stepHidden(perPositionPack, new Float32Array(16), step(2, 3), 0)).toThrow(expect.objectContaining({ code: 'E_BACKEND_RUN', message: 'hidden output has 16 values, expected 48' }));
  });
});
