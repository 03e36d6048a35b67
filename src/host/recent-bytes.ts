/**
 * Short byte strings a module hands the host again and again, such as the header names and values
 * a filter adds on every request, kept so that reading the same bytes again allocates nothing.
 *
 * A direct-mapped cache: each byte string has one slot, picked from its length and three of its
 * bytes, and a read whose bytes equal the slot's (compared byte for byte) returns the array made
 * the last time. The arrays it returns are therefore shared: nobody may write into them (the
 * HeaderMap, which keeps them, never does).
 */
const SLOTS = 256;

/** The longest byte string kept; longer ones are copied on every read. */
export const RECENT_BYTES_MAX = 64;

export class RecentBytes {
  private readonly slots: (Uint8Array | undefined)[] = new Array(SLOTS).fill(undefined);

  /**
   * The bytes `[pointer, pointer + size)` of `memory`, as a shared array. The caller has checked
   * the range, and `size` is 1 to {@link RECENT_BYTES_MAX}.
   */
  read(memory: Uint8Array, pointer: number, size: number): Uint8Array {
    const slot = (size * 31 + memory[pointer] * 7 + memory[pointer + size - 1] * 3 + memory[pointer + (size >> 1)]) & (SLOTS - 1);
    const cached = this.slots[slot];
    if (cached !== undefined && cached.length === size) {
      let i = 0;
      while (i < size && cached[i] === memory[pointer + i]) i++;
      if (i === size) return cached;
    }
    const copy = new Uint8Array(size);
    for (let i = 0; i < size; i++) copy[i] = memory[pointer + i];
    this.slots[slot] = copy;
    return copy;
  }
}
