// Tests FNV-1a and fmix32 against published test vectors.

import { describe, expect, it } from 'vitest';
import { FNV_OFFSET_BASIS, fmix32, fnv1a } from './string-hash.js';

describe('fnv1a', () => {
  it('matches the published FNV-1a 32-bit test vectors (ASCII: code units = bytes)', () => {
    // Vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv): "" , "a", "foobar".
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('hashes a slice the same as the sliced string, and continues from a seed', () => {
    expect(fnv1a('xxfoobaryy', 2, 8)).toBe(fnv1a('foobar'));
    expect(fnv1a('bar', 0, 3, fnv1a('foo'))).toBe(fnv1a('foobar'));
    expect(fnv1a('', 0, 0, FNV_OFFSET_BASIS)).toBe(FNV_OFFSET_BASIS);
  });
});

describe('fmix32', () => {
  it('matches murmur3 fmix32 on known values', () => {
    // fmix32(0) = 0; fmix32(1) = 0x514e28b7 (murmur3 reference finaliser).
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
  });
});
