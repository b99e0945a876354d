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
  // Work column by column (each column contiguous): the reflector loops then stream through memory.
  const columns = Array.from({ length: cols }, (_, c) => {
    const column = new Float64Array(rows);
    for (let i = 0; i < rows; i++) column[i] = m.values[i * cols + c]!;
    return column;
  });
  const reflectors: Float64Array[] = []; // v_j (rows,), zero above j, unit length or all zero
  for (let j = 0; j < k; j++) {
    const x = columns[j]!;
    let norm = 0;
    for (let i = j; i < rows; i++) norm += x[i]! * x[i]!;
    norm = Math.sqrt(norm);
    const v = new Float64Array(rows);
    reflectors.push(v);
    if (norm === 0) continue; // already zero below the diagonal: identity reflector
    const alpha = x[j]! >= 0 ? -norm : norm; // −sign(x_j)·‖x‖ avoids cancellation
    v[j] = x[j]! - alpha;
    for (let i = j + 1; i < rows; i++) v[i] = x[i]!;
    let vNorm = 0;
    for (let i = j; i < rows; i++) vNorm += v[i]! * v[i]!;
    vNorm = Math.sqrt(vNorm);
    if (vNorm === 0) continue;
    for (let i = j; i < rows; i++) v[i]! /= vNorm;
    for (let c = j; c < cols; c++) reflect(columns[c]!, v, j);
  }
  const r = matrix(k, cols);
  for (let i = 0; i < k; i++) {
    for (let c = i; c < cols; c++) r.values[i * cols + c] = columns[c]![i]!;
  }
  // Q = H_0 H_1 … H_{k-1} applied to the first k columns of the identity, right to left.
  const qColumns = Array.from({ length: k }, (_, c) => {
    const column = new Float64Array(rows);
    column[c] = 1;
    return column;
  });
  for (let j = k - 1; j >= 0; j--) for (const column of qColumns) reflect(column, reflectors[j]!, j);
  const q = matrix(rows, k);
  qColumns.forEach((column, c) => column.forEach((value, i) => (q.values[i * k + c] = value)));
  return { q, r };
}

/** x ← (I − 2 v vᵀ) x, with v zero before index `from`. */
function reflect(x: Float64Array, v: Float64Array, from: number): void {
  let dot = 0;
  for (let i = from; i < x.length; i++) dot += v[i]! * x[i]!;
  if (dot === 0) return;
  dot *= 2;
  for (let i = from; i < x.length; i++) x[i]! -= dot * v[i]!;
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
  // Hestenes: rotate pairs of columns (kept contiguous) until all are mutually orthogonal; the
  // same rotations applied to the identity give V.
  const columns = Array.from({ length: cols }, (_, c) => {
    const column = new Float64Array(rows);
    for (let i = 0; i < rows; i++) column[i] = m.values[i * cols + c]!;
    return column;
  });
  const rotations = Array.from({ length: cols }, (_, c) => {
    const column = new Float64Array(cols);
    column[c] = 1;
    return column;
  });
  const maxSweeps = 80;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < cols - 1; p++) {
      const xp = columns[p]!;
      for (let q = p + 1; q < cols; q++) {
        const xq = columns[q]!;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < rows; i++) {
          alpha += xp[i]! * xp[i]!;
          beta += xq[i]! * xq[i]!;
          gamma += xp[i]! * xq[i]!;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(xp, xq, c, s);
        rotate(rotations[p]!, rotations[q]!, c, s);
      }
    }
    if (!rotated) break;
  }
  const norms = columns.map((column) => Math.sqrt(column.reduce((sum, value) => sum + value * value, 0)));
  const order = Array.from({ length: cols }, (_, j) => j).sort((x, y) => norms[y]! - norms[x]! || x - y);
  const u = matrix(rows, cols);
  const us = matrix(rows, cols);
  const v = matrix(cols, cols);
  const s = new Float64Array(cols);
  order.forEach((source, target) => {
    const sigma = norms[source]!;
    const column = columns[source]!;
    const rotation = rotations[source]!;
    s[target] = sigma;
    for (let i = 0; i < rows; i++) {
      us.values[i * cols + target] = column[i]!;
      u.values[i * cols + target] = sigma > 0 ? column[i]! / sigma : 0;
    }
    for (let i = 0; i < cols; i++) v.values[i * cols + target] = rotation[i]!;
  });
  return { u, s, v, us };
}

/** (x, y) ← (c·x − s·y, s·x + c·y). */
function rotate(x: Float64Array, y: Float64Array, c: number, s: number): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    x[i] = c * xi - s * yi;
    y[i] = s * xi + c * yi;
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
