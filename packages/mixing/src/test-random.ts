// Test support: deterministic pseudo-random numbers (mulberry32 + Box–Muller), random LoRA modules
// and relative error. Not exported from index.ts; not suitable for anything needing real randomness.

import type { LoraModuleWeights } from '@lora-tle/spec';

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

/** A LoRA module with random non-zero A (r, in) and B (out, r) — B ≠ 0 so mixtures are visible. */
export function randomLoraModule(
  { rank, inFeatures, outFeatures, scaling, seed }: { rank: number; inFeatures: number; outFeatures: number; scaling: number; seed: number },
): LoraModuleWeights {
  const a = Float32Array.from(seededNormals(rank * inFeatures, seed));
  const b = Float32Array.from(seededNormals(outFeatures * rank, seed + 7919));
  if (!b.some((value) => value !== 0)) throw new Error('test module has B = 0; pick another seed');
  return { module: 'model.layers.0.self_attn.q_proj', rank, alpha: scaling * rank, scaling, a, b, inFeatures, outFeatures };
}

/** ‖x − y‖_F / ‖y‖_F (y the reference); 0 when both are zero. */
export function relativeError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`length ${x.length} vs ${y.length}`);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < x.length; i++) {
    diff += (x[i]! - y[i]!) ** 2;
    norm += y[i]! ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}
