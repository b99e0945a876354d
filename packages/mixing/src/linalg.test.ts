import { describe, expect, it } from 'vitest';
import { householderQr, jacobiSvd, matmul, matrix, quantile, transpose, type Matrix } from './linalg.js';
import { seededNormals } from './test-random.js';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  return matrix(rows, cols, seededNormals(rows * cols, seed));
}

function maxAbsDiff(x: Matrix, y: Matrix): number {
  expect([x.rows, x.cols]).toEqual([y.rows, y.cols]);
  let worst = 0;
  x.values.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - y.values[i]!))));
  return worst;
}

function identity(n: number): Matrix {
  const out = matrix(n, n);
  for (let i = 0; i < n; i++) out.values[i * n + i] = 1;
  return out;
}

describe('matmul', () => {
  it('multiplies a worked example', () => {
    const left = matrix(2, 3, [1, 2, 3, 4, 5, 6]);
    const right = matrix(3, 2, [7, 8, 9, 10, 11, 12]);
    expect(Array.from(matmul(left, right).values)).toEqual([58, 64, 139, 154]);
  });
});

describe('householderQr', () => {
  for (const [rows, cols] of [
    [7, 3],
    [3, 7],
    [5, 5],
  ] as const) {
    it(`reconstructs a ${rows}x${cols} matrix with orthonormal Q and triangular R`, () => {
      const m = randomMatrix(rows, cols, rows * 10 + cols);
      const { q, r } = householderQr(m);
      const k = Math.min(rows, cols);
      expect([q.rows, q.cols, r.rows, r.cols]).toEqual([rows, k, k, cols]);
      expect(maxAbsDiff(matmul(q, r), m)).toBeLessThan(1e-12);
      expect(maxAbsDiff(matmul(transpose(q), q), identity(k))).toBeLessThan(1e-12);
      for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) expect(r.values[i * cols + j]).toBe(0);
    });
  }

  it('handles a zero column (rank-deficient input)', () => {
    const m = matrix(4, 3, [1, 0, 2, 3, 0, 4, 5, 0, 6, 7, 0, 8]);
    const { q, r } = householderQr(m);
    expect(maxAbsDiff(matmul(q, r), m)).toBeLessThan(1e-12);
  });
});

describe('jacobiSvd', () => {
  for (const [rows, cols] of [
    [9, 4],
    [4, 9],
    [6, 6],
  ] as const) {
    it(`decomposes a ${rows}x${cols} matrix: m = u s vᵀ, s descending, v orthonormal`, () => {
      const m = randomMatrix(rows, cols, 100 + rows * cols);
      const { u, s, v, us } = jacobiSvd(m);
      const k = Math.min(rows, cols);
      expect(s.length).toBe(k);
      for (let i = 1; i < k; i++) expect(s[i]!).toBeLessThanOrEqual(s[i - 1]!);
      expect(maxAbsDiff(matmul(us, transpose(v)), m)).toBeLessThan(1e-12);
      expect(maxAbsDiff(matmul(transpose(v), v), identity(k))).toBeLessThan(1e-12);
      expect(maxAbsDiff(matmul(transpose(u), u), identity(k))).toBeLessThan(1e-12);
    });
  }

  it('finds the singular values of a known matrix', () => {
    // diag(3, 1) rotated by orthogonal matrices keeps singular values 3 and 1.
    const c = Math.cos(0.3);
    const sn = Math.sin(0.3);
    const rotation = matrix(2, 2, [c, -sn, sn, c]);
    const m = matmul(matmul(rotation, matrix(2, 2, [3, 0, 0, 1])), transpose(rotation));
    const { s } = jacobiSvd(m);
    expect(s[0]).toBeCloseTo(3, 12);
    expect(s[1]).toBeCloseTo(1, 12);
  });

  it('gives zero singular values and zero u columns for a rank-1 matrix', () => {
    const m = matrix(3, 3, [1, 2, 3, 2, 4, 6, 3, 6, 9]);
    const { s, u } = jacobiSvd(m);
    expect(s[0]).toBeCloseTo(14, 10); // ‖(1,2,3)‖² = 14
    expect(s[1]).toBeLessThan(1e-12);
    expect(s[2]).toBeLessThan(1e-12);
    expect(Number.isFinite(u.values[1])).toBe(true);
  });
});

describe('quantile', () => {
  it('interpolates linearly between order statistics like torch.quantile', () => {
    // torch.quantile(tensor([4., 1., 3., 2.]), 0.5) = 2.5; q = 0.99 → 3 + 0.97 = 3.97
    expect(quantile([4, 1, 3, 2], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantile([4, 1, 3, 2], 0.99)).toBeCloseTo(3.97, 12);
    expect(quantile([4, 1, 3, 2], 1)).toBe(4);
    expect(quantile([4, 1, 3, 2], 0)).toBe(1);
  });
});
