// Scoring rules checked on hand-written cases (expected values worked out by hand from the rules,
// and for SQuAD from the official evaluation script's definitions).

import { describe, expect, it } from 'vitest';
import { exactMatch, extractChoiceLetter, extractMathAnswer, normalizeSquad, scoreMath, scoreScience, tokenF1 } from './text-scorers.js';

describe('math', () => {
  it('reads the number after ####, normalising commas, signs and trailing zeros', () => {
    expect(extractMathAnswer('15 + 17 = 32.\n#### 32')).toBe('32');
    expect(extractMathAnswer('#### 1,234')).toBe('1234');
    expect(extractMathAnswer('####7.0')).toBe('7');
    expect(extractMathAnswer('#### 2.50 dollars')).toBe('2.5');
    expect(extractMathAnswer('#### -0012')).toBe('-12');
    expect(extractMathAnswer('#### .5')).toBe('0.5');
    expect(extractMathAnswer('#### +3')).toBe('3');
    expect(extractMathAnswer('the answer is 32')).toBeNull();
  });
  it('compares with the gold solution number; the first #### counts', () => {
    expect(scoreMath('6 + 18 = 24.\n#### 24', '6 + 18 = 24.\n#### 24')).toBe(true);
    expect(scoreMath('#### 24.0', '#### 24')).toBe(true);
    expect(scoreMath('#### 25\n#### 24', '#### 24')).toBe(false);
    expect(scoreMath('24', '#### 24')).toBe(false);
  });
});

describe('science', () => {
  it('takes a leading standalone A-D letter', () => {
    expect(extractChoiceLetter('B')).toBe('B');
    expect(extractChoiceLetter('  C. eyes')).toBe('C');
    expect(extractChoiceLetter('D)')).toBe('D');
    expect(extractChoiceLetter('Because eyes')).toBeNull();
    expect(extractChoiceLetter('E')).toBeNull();
    expect(extractChoiceLetter('the answer is B')).toBeNull();
    expect(scoreScience('B', 'B')).toBe(true);
    expect(scoreScience('A', 'B')).toBe(false);
  });
});

describe('reading (SQuAD)', () => {
  it('normalises: lower, punctuation, articles, whitespace', () => {
    expect(normalizeSquad('The  Eiffel Tower!')).toBe('eiffel tower');
    expect(normalizeSquad('an apple, a pear')).toBe('apple pear');
    expect(normalizeSquad('Theatre')).toBe('theatre'); // "the" only as a word
    expect(exactMatch('Lima.', 'lima')).toBe(true);
    expect(exactMatch('in Lima', 'Lima')).toBe(false);
  });
  it('token F1 with multiplicity', () => {
    expect(tokenF1('in Lima', 'Lima')).toBeCloseTo((2 * 0.5 * 1) / 1.5, 10);
    expect(tokenF1('the cat sat', 'a cat sat down')).toBeCloseTo((2 * 1 * (2 / 3)) / (1 + 2 / 3), 10);
    expect(tokenF1('cat cat', 'cat')).toBeCloseTo((2 * 0.5 * 1) / 1.5, 10);
    expect(tokenF1('dog', 'cat')).toBe(0);
    expect(tokenF1('', 'cat')).toBe(0);
  });
});
