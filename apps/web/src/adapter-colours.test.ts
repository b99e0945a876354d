// The colour helpers: the dominant adapter of a mixture (base = -1), rgba conversion, tooltips.

import { describe, expect, it } from 'vitest';
import { adapterColour, describeMixture, dominantAdapter, withAlpha } from './adapter-colours.js';

describe('adapter colours', () => {
  it('finds the largest weight, first on ties, and -1 for the base model', () => {
    expect(dominantAdapter([0.1, 0.6, 0.2, 0.1])).toBe(1);
    expect(dominantAdapter([0.4, 0.4, 0.2])).toBe(0);
    expect(dominantAdapter([0, 0, 0, 0])).toBe(-1);
  });

  it('gives four distinct colours to four adapters and converts them to rgba', () => {
    expect(new Set([0, 1, 2, 3].map(adapterColour)).size).toBe(4);
    expect(withAlpha('#e4572e', 0.5)).toBe('rgba(228, 87, 46, 0.500)');
  });

  it('lists every adapter weight in the tooltip', () => {
    expect(describeMixture(['math', 'code'], [0.75, 0.25])).toBe('math 0.750\ncode 0.250');
  });
});
