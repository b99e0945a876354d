// Small dense linear algebra in float64 for the offline merges: matrix product, Householder thin QR,
// one-sided Jacobi SVD and torch-style quantile. Sized for LoRA cores (tens to a few hundred rows),
// not for full out × in weight matrices — merges never form those (see merge-svd.ts).
// Not a general BLAS: no blocking, no threads; row-major Float64Array everywhere.

/** A row-major float64 matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  values: Float64Array; // (rows, cols)
}

export function matrix(rows: number, cols: number, values?: ArrayLike<number>): Matrix {
  const out = new Float64Array(rows * cols);
  if (values !== undefined) out.set(values);
  return { rows, cols, values: out };
}

export function transpose(m: Matrix): Matrix {
  const out = matrix(m.cols, m.rows);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) out.values[j * m.rows + i] = m.values[i * m.cols + j]!;
  }
  return out;
}

/** left (m, k) · right (k, n) → (m, n). */
export function matmul(left: Matrix, right: Matrix): Matrix {
  if (left.cols !== right.rows) {
    throw new RangeError(`matmul: inner dimensions differ (${left.rows}x${left.cols} · ${right.rows}x${right.cols})`);
  }
  const { rows: m, cols: k } = left;
  const n = right.cols;
  const out = matrix(m, n);
  const lv = left.values;
  const rv = right.values;
  const ov = out.values;
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const lip = lv[i * k + p]!;
      if (lip === 0) continue;
      const rowOffset = p * n;
      const outOffset = i * n;
      for (let j = 0; j < n; j++) ov[outOffset + j]! += lip * rv[rowOffset + j]!;
    }
  }
  return out;
}

// ---- Householder QR ----

/**
 * Thin QR: m (rows, cols) = q (rows, k) · r (k, cols), k = min(rows, cols), q with orthonormal
 * columns, r upper triangular (upper trapezoidal when cols > rows).
 */
export function householderQr(m: Matrix): { q: Matrix; r: Matrix } {
  const { rows, cols } = m;
  const k = Math.min(rows, cols);
  const work = matrix(rows, cols, m.values); // becomes R in its top k rows
  const w = work.values;
  const reflectors: Float64Array[] = []; // v_j (rows - j,), unit length or all zero
  for (let j = 0; j < k; j++) {
    const length = rows - j;
    const v = new Float64Array(length);
    let norm = 0;
    for (let i = 0; i < length; i++) {
      v[i] = w[(j + i) * cols + j]!;
      norm += v[i]! * v[i]!;
    }
    norm = Math.sqrt(norm);
    if (norm === 0) {
      reflectors.push(v); // column already zero below the diagonal: identity reflector
      continue;
    }
    const x0 = v[0]!;
    const alpha = x0 >= 0 ? -norm : norm; // -sign(x0)·‖x‖ avoids cancellation
    v[0] = x0 - alpha;
    let vNorm = 0;
    for (let i = 0; i < length; i++) vNorm += v[i]! * v[i]!;
    vNorm = Math.sqrt(vNorm);
    if (vNorm === 0) {
      reflectors.push(new Float64Array(length));
      continue;
    }
    for (let i = 0; i < length; i++) v[i]! /= vNorm;
    applyReflector(w, cols, j, v, j, cols);
    reflectors.push(v);
  }
  const r = matrix(k, cols);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < cols; j++) r.values[i * cols + j] = w[i * cols + j]!;
  }
  // Q = H_0 H_1 … H_{k-1} applied to the first k columns of the identity, right to left.
  const q = matrix(rows, k);
  for (let i = 0; i < k; i++) q.values[i * k + i] = 1;
  for (let j = k - 1; j >= 0; j--) applyReflector(q.values, k, j, reflectors[j]!, 0, k);
  return { q, r };
}

/** Rows firstRow.. of a (·, stride) matrix, columns [fromCol, toCol): X ← (I − 2 v vᵀ) X. */
function applyReflector(
  values: Float64Array,
  stride: number,
  firstRow: number,
  v: Float64Array,
  fromCol: number,
  toCol: number,
): void {
  for (let c = fromCol; c < toCol; c++) {
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += v[i]! * values[(firstRow + i) * stride + c]!;
    if (dot === 0) continue;
    dot *= 2;
    for (let i = 0; i < v.length; i++) values[(firstRow + i) * stride + c]! -= dot * v[i]!;
  }
}

// ---- one-sided Jacobi SVD ----

/**
 * Thin SVD: m (rows, cols) = u (rows, k) · diag(s) · vᵀ, k = min(rows, cols), s descending and
 * ≥ 0, v (cols, k) orthonormal. Columns of u for a zero singular value are zero (`us` is exact
 * either way). `us` = u · diag(s), returned separately because it needs no division.
 */
export function jacobiSvd(m: Matrix): { u: Matrix; s: Float64Array; v: Matrix; us: Matrix } {
  if (m.rows < m.cols) {
    // mᵀ = v s uᵀ: run on the tall transpose and swap the roles.
    const swapped = jacobiSvd(transpose(m));
    const us = matrix(m.rows, swapped.s.length);
    for (let i = 0; i < m.rows; i++) {
      for (let j = 0; j < swapped.s.length; j++) us.values[i * us.cols + j] = swapped.v.values[i * swapped.v.cols + j]! * swapped.s[j]!;
    }
    return { u: swapped.v, s: swapped.s, v: swapped.u, us };
  }
  const { rows, cols } = m;
  const work = matrix(rows, cols, m.values); // columns are rotated until mutually orthogonal
  const w = work.values;
  const rotations = matrix(cols, cols);
  const rv = rotations.values;
  for (let i = 0; i < cols; i++) rv[i * cols + i] = 1;
  const maxSweeps = 80;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < cols - 1; p++) {
      for (let q = p + 1; q < cols; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < rows; i++) {
          const wp = w[i * cols + p]!;
          const wq = w[i * cols + q]!;
          alpha += wp * wp;
          beta += wq * wq;
          gamma += wp * wq;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotateColumns(w, rows, cols, p, q, c, s);
        rotateColumns(rv, cols, cols, p, q, c, s);
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += w[i * cols + j]! * w[i * cols + j]!;
    norms[j] = Math.sqrt(sum);
  }
  const order = Array.from({ length: cols }, (_, j) => j).sort((x, y) => norms[y]! - norms[x]! || x - y);
  const u = matrix(rows, cols);
  const us = matrix(rows, cols);
  const v = matrix(cols, cols);
  const s = new Float64Array(cols);
  order.forEach((source, target) => {
    const sigma = norms[source]!;
    s[target] = sigma;
    for (let i = 0; i < rows; i++) {
      const value = w[i * cols + source]!;
      us.values[i * cols + target] = value;
      u.values[i * cols + target] = sigma > 0 ? value / sigma : 0;
    }
    for (let i = 0; i < cols; i++) v.values[i * cols + target] = rv[i * cols + source]!;
  });
  return { u, s, v, us };
}

/** Columns p, q of a (rows, stride) matrix: (x_p, x_q) ← (c·x_p − s·x_q, s·x_p + c·x_q). */
function rotateColumns(values: Float64Array, rows: number, stride: number, p: number, q: number, c: number, s: number): void {
  for (let i = 0; i < rows; i++) {
    const xp = values[i * stride + p]!;
    const xq = values[i * stride + q]!;
    values[i * stride + p] = c * xp - s * xq;
    values[i * stride + q] = s * xp + c * xq;
  }
}

// ---- quantile ----

/** torch.quantile(values, q) with its default 'linear' interpolation between order statistics. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty set');
  const sorted = Float64Array.from(values).sort();
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const fraction = position - below;
  return sorted[below]! + (sorted[above]! - sorted[below]!) * fraction;
}
