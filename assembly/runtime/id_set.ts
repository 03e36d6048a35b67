// A set of u32 ids in raw heap memory, for SDK bookkeeping that must not allocate per entry.
// A set is a 12-byte header (block address, count, capacity), declared by its owner as
// `memory.data(12, 4)` (static zeros: an empty set costs nothing); the ids sit unordered in a
// heap block that doubles when full and is never shrunk. Lookups walk it: the sets stay small
// (the streams in flight, the plugins of a VM).

/** Adds `id` (the caller knows it is absent). */
export function idSetAdd(set: usize, id: u32): void {
  const count = load<u32>(set, 4);
  let block = <usize>load<u32>(set);
  if (count == load<u32>(set, 8)) {
    const capacity = count * 2 + 8;
    const grown = heap.alloc(<usize>capacity << 2);
    if (block != 0) {
      memory.copy(grown, block, <usize>count << 2);
      heap.free(block);
    }
    block = grown;
    store<u32>(set, <u32>block);
    store<u32>(set, capacity, 8);
  }
  store<u32>(block + (<usize>count << 2), id);
  store<u32>(set, count + 1, 4);
}

/** True if `id` is in the set. */
export function idSetHas(set: usize, id: u32): bool {
  return slotOf(set, id) != 0;
}

/** Removes `id`; true if it was there. */
export function idSetRemove(set: usize, id: u32): bool {
  const slot = slotOf(set, id);
  if (slot == 0) return false;
  // The last id fills the hole: the order does not matter.
  const count = load<u32>(set, 4) - 1;
  store<u32>(slot, load<u32>(<usize>load<u32>(set) + (<usize>count << 2)));
  store<u32>(set, count, 4);
  return true;
}

/** Number of ids in the set. */
export function idSetSize(set: usize): u32 {
  return load<u32>(set, 4);
}

function slotOf(set: usize, id: u32): usize {
  const block = <usize>load<u32>(set);
  const end = block + (<usize>load<u32>(set, 4) << 2);
  for (let slot = block; slot < end; slot += 4) {
    if (load<u32>(slot) == id) return slot;
  }
  return 0;
}
