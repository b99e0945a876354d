// Stable 32-bit string hashing for feature hashing: FNV-1a over UTF-16 code units, finished with
// the murmur3 fmix32 avalanche so that low bits (the bucket) and the top bit (the sign) are both
// well mixed. Deterministic in every JS engine (Math.imul, unsigned shifts). Not cryptographic.

export const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** One FNV-1a step: fold one UTF-16 code unit into the running hash. */
export function fnv1aStep(hash: number, codeUnit: number): number {
  return Math.imul(hash ^ codeUnit, FNV_PRIME) >>> 0;
}

/** FNV-1a of `text.slice(start, end)` continued from `seed`. */
export function fnv1a(text: string, start = 0, end = text.length, seed = FNV_OFFSET_BASIS): number {
  let hash = seed;
  for (let i = start; i < end; i++) hash = fnv1aStep(hash, text.charCodeAt(i));
  return hash;
}

/** murmur3 finaliser: spreads every input bit over every output bit. */
export function fmix32(hash: number): number {
  let h = hash >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
