// A reusable counter of 32-bit feature keys (open addressing, linear probing) for the hashing
// embedder: counting term frequencies per text without allocating a Map entry per feature. It is
// scratch memory owned by one embedder instance (not shared, not module-level); it grows as needed.
// Not a general hash map: keys are already well-mixed 32-bit hashes, values are counts.

export interface FeatureCounter {
  add(key: number): void;
  /** Visit every (key, count) once, in insertion order, and empty the counter. */
  forEachAndClear(visit: (key: number, count: number) => void): void;
}

export function createFeatureCounter(initialCapacity = 1 << 12): FeatureCounter {
  let mask = initialCapacity - 1; // capacity is a power of two
  let keys = new Uint32Array(initialCapacity);
  let counts = new Uint32Array(initialCapacity); // 0 = empty slot
  let usedSlots = new Int32Array(initialCapacity >> 1); // slots in insertion order
  let used = 0;

  function insert(key: number, count: number): void {
    let slot = key & mask;
    while (counts[slot] !== 0 && keys[slot] !== key) slot = (slot + 1) & mask;
    if (counts[slot] === 0) {
      keys[slot] = key;
      usedSlots[used++] = slot;
    }
    counts[slot] = (counts[slot] as number) + count;
  }

  function grow(): void {
    const oldKeys = keys;
    const oldCounts = counts;
    const oldSlots = usedSlots.subarray(0, used);
    const capacity = (mask + 1) * 2;
    mask = capacity - 1;
    keys = new Uint32Array(capacity);
    counts = new Uint32Array(capacity);
    usedSlots = new Int32Array(capacity >> 1);
    used = 0;
    for (const slot of oldSlots) insert(oldKeys[slot] as number, oldCounts[slot] as number);
  }

  return {
    add(key) {
      if (used >= usedSlots.length) grow(); // load factor stays ≤ 1/2
      insert(key >>> 0, 1);
    },
    forEachAndClear(visit) {
      for (let i = 0; i < used; i++) {
        const slot = usedSlots[i] as number;
        visit(keys[slot] as number, counts[slot] as number);
        counts[slot] = 0;
      }
      used = 0;
    },
  };
}
