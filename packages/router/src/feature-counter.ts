// A reusable counter of 32-bit feature keys (open addressing, linear probing) for the hashing
// embedder: counting term frequencies per text, or the net tf changes of one incremental step,
// without allocating a Map entry per feature. It is scratch memory owned by one embedder instance
// (not shared, not module-level); it grows as needed.
// Not a general hash map: keys are already well-mixed 32-bit hashes, values are counts.

export interface FeatureCounter {
  /** Adds `delta` (default 1, may be negative) to the key's count. */
  add(key: number, delta?: number): void;
  /** Visit every key added since the last visit once, in first-insertion order, with its net count
   * (0 when its changes cancelled), and empty the counter. */
  forEachAndClear(visit: (key: number, count: number) => void): void;
}

export function createFeatureCounter(initialCapacity = 1 << 12): FeatureCounter {
  let mask = initialCapacity - 1; // capacity is a power of two
  let keys = new Uint32Array(initialCapacity);
  let counts = new Int32Array(initialCapacity);
  let occupied = new Uint8Array(initialCapacity); // 1 = the slot holds a key added since the last visit
  let usedSlots = new Int32Array(initialCapacity >> 1); // slots in insertion order
  let used = 0;

  function insert(key: number, count: number): void {
    let slot = key & mask;
    while (occupied[slot] === 1 && keys[slot] !== key) slot = (slot + 1) & mask;
    if (occupied[slot] === 0) {
      keys[slot] = key;
      occupied[slot] = 1;
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
    counts = new Int32Array(capacity);
    occupied = new Uint8Array(capacity);
    usedSlots = new Int32Array(capacity >> 1);
    used = 0;
    for (const slot of oldSlots) insert(oldKeys[slot] as number, oldCounts[slot] as number);
  }

  return {
    add(key, delta = 1) {
      if (used >= usedSlots.length) grow(); // load factor stays ≤ 1/2
      insert(key >>> 0, delta);
    },
    forEachAndClear(visit) {
      for (let i = 0; i < used; i++) {
        const slot = usedSlots[i] as number;
        visit(keys[slot] as number, counts[slot] as number);
        counts[slot] = 0;
        occupied[slot] = 0;
      }
      used = 0;
    },
  };
}

/**
 * Term frequencies of 32-bit feature keys that change by small steps (the incremental embedding's
 * state): open addressing like the counter above, but a key whose count returns to 0 keeps its
 * slot (no deletion), so `change` is one probe sequence and no allocation.
 */
export interface TermFrequencyTable {
  /** Adds `delta` to the key's count and returns the count before. */
  change(key: number, delta: number): number;
  /** Keys whose count is not 0. */
  readonly live: number;
  clear(): void;
}

export function createTermFrequencyTable(initialCapacity = 1 << 12): TermFrequencyTable {
  let mask = initialCapacity - 1;
  // slot s: the key at 2s, its count + 1 at 2s + 1 (0 = empty slot; counts never go below 0: the
  // incremental embedding removes only what it added); one cache line per probe
  let slots = new Int32Array(initialCapacity * 2);
  let slotsUsed = 0;
  let live = 0;

  function slotOf(key: number): number {
    let slot = key & mask;
    while (slots[2 * slot + 1] !== 0 && slots[2 * slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }

  function grow(): void {
    const old = slots;
    mask = mask * 2 + 1;
    slots = new Int32Array((mask + 1) * 2);
    slotsUsed = 0;
    for (let at = 0; at < old.length; at += 2) {
      if ((old[at + 1] as number) <= 1) continue; // empty, or a zero count: dropped here
      const slot = slotOf(old[at] as number);
      slots[2 * slot] = old[at] as number;
      slots[2 * slot + 1] = old[at + 1] as number;
      slotsUsed++;
    }
  }

  return {
    change(key, delta) {
      key |= 0;
      let slot = slotOf(key);
      if (slots[2 * slot + 1] === 0) {
        if (slotsUsed + 1 > (mask + 1) >> 1) {
          grow();
          slot = slotOf(key);
        }
        slots[2 * slot] = key;
        slots[2 * slot + 1] = 1;
        slotsUsed++;
      }
      const before = (slots[2 * slot + 1] as number) - 1;
      const after = before + delta;
      slots[2 * slot + 1] = after + 1;
      if (before === 0 && after !== 0) live++;
      else if (before !== 0 && after === 0) live--;
      return before;
    },
    get live() {
      return live;
    },
    clear() {
      slots.fill(0);
      slotsUsed = 0;
      live = 0;
    },
  };
}
