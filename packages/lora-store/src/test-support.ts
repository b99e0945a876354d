// Test helpers shared by this package's tests: hand-built safetensors bytes (any header, valid or
// not) and temp directories. Not exported from the package.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** 8-byte little-endian length + `header` (as given, no padding) + `dataLength` bytes of data. */
export function rawSafetensors(header: string | Uint8Array, dataLength = 0, declaredLength?: bigint): Uint8Array {
  const headerBytes = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + headerBytes.byteLength + dataLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  for (let i = 0; i < dataLength; i++) out[8 + headerBytes.byteLength + i] = i & 0xff;
  return out;
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lora-store-test-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deterministic PRNG (mulberry32) for fuzzing and random test tensors. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomFloats(count: number, random: () => number): Float32Array {
  return Float32Array.from({ length: count }, () => random() * 2 - 1);
}
