// Deterministic pseudo-random numbers for tests (mulberry32 + Box–Muller). Test support only: not
// exported from index.ts, not suitable for anything that needs real randomness.

export function seededUniforms(count: number, seed: number): Float64Array {
  let state = seed >>> 0;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

export function seededNormals(count: number, seed: number): Float64Array {
  const uniforms = seededUniforms(2 * count, seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u1 = Math.max(uniforms[2 * i]!, 1e-12);
    const u2 = uniforms[2 * i + 1]!;
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}
