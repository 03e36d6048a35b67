import { stageText, stagedLength } from "../runtime/memory";
import { stringByteLength, utf8Decode } from "../runtime/utf8";

// A header map's entries as the host sent them (the pairs format, proxy-wasm-abi.md §3.2), kept
// as one copy of the host's bytes. Nothing is decoded until asked for: a filter that scans the
// names for one header pays a byte compare per entry, not a UTF-16 string per name and value
// as HeaderMap.getAll() does.
//
// The copy lives inside the HeaderPairs object, after its fields: one allocation per snapshot.
// Its length table is rewritten in place at parse time from (keyLength, valueLength) to
// (keyOffset, valueOffset), so entry i is found in O(1) without a second allocation; the
// lengths follow from the next offset (word 0 holds the end of the data).

/**
 * A read-only snapshot of a header map (from HeaderMap.pairs()): `count` entries in host order
 * (pseudo-headers first in Envoy), each read by index with names compared and values decoded
 * on demand. Legal anywhere once obtained; it does not change when the map does. An index
 * outside 0..count-1 reads as an empty name and value (never a trap).
 */
export class HeaderPairs {
  /** The number of entries. */
  public readonly count: i32 = 0;

  // Never called: instances come from make(), which puts the block inside the object (one
  // allocation per snapshot, not an object and an ArrayBuffer). The block holds no references,
  // so the collector, which visits only the declared fields, never reads it.
  private constructor() {}

  // A snapshot of `count` entries with room for a `size`-byte block after the fields.
  private static make(count: usize, size: usize): usize {
    const object = __new(offsetof<HeaderPairs>() + size, idof<HeaderPairs>());
    store<i32>(object, <i32>count, offsetof<HeaderPairs>("count"));
    return object;
  }

  /** A view with no entries (an unavailable map). */
  static empty(): HeaderPairs {
    const object = HeaderPairs.make(0, 4);
    store<u32>(object + offsetof<HeaderPairs>(), 0);
    return changetype<HeaderPairs>(object);
  }

  /**
   * Copies and indexes the pairs block at [ptr, ptr + size). A block shorter than 4 bytes (the
   * host's empty map) or a malformed one gives an empty view: host data must never make the SDK
   * trap.
   */
  static parse(ptr: usize, size: usize): HeaderPairs {
    if (size < 4) return HeaderPairs.empty();
    const count = <usize>load<u32>(ptr);
    // Each entry needs 8 bytes of lengths and 2 NULs: this bound also keeps the math in range.
    if (count > (size - 4) / 10) return HeaderPairs.empty();
    const object = HeaderPairs.make(count, size);
    const block = object + offsetof<HeaderPairs>();
    memory.copy(block, ptr, size);
    let lengths = block + 4;
    let data: usize = 4 + count * 8;
    for (let i: usize = 0; i < count; i++) {
      const keyLength = <usize>load<u32>(lengths);
      const valueLength = <usize>load<u32>(lengths, 4);
      if (<u64>data + <u64>keyLength + <u64>valueLength + 2 > <u64>size) return HeaderPairs.empty();
      store<u32>(lengths, <u32>data);
      data += keyLength + 1;
      store<u32>(lengths, <u32>data, 4);
      data += valueLength + 1;
      lengths += 8;
    }
    store<u32>(block, <u32>data);
    return changetype<HeaderPairs>(object);
  }

  // The copied block, right after the fields.
  private get block(): usize {
    return changetype<usize>(this) + offsetof<HeaderPairs>();
  }

  // Address of entry i's key (part 0) or value (part 1); its length through lengthOf.
  private at(i: i32, part: usize): usize {
    const block = this.block;
    return block + <usize>load<u32>(block + 4 + (<usize>i << 3) + (part << 2));
  }

  private lengthOf(i: i32, part: usize): usize {
    const block = this.block;
    const slot = block + 4 + (<usize>i << 3) + (part << 2);
    // The next offset: the value's after the key's, the next key's after the value's; word 0
    // (the end of the data) after the last value.
    const next = part == 0 || i + 1 < this.count ? load<u32>(slot, 4) : load<u32>(block);
    return <usize>(next - load<u32>(slot)) - 1;
  }

  /** True if entry i's name is exactly `name` as UTF-8 bytes (Envoy's names are lower-case:
   * pass lower-case). Decodes nothing and allocates nothing. */
  nameIs(i: i32, name: string): bool {
    return this.partIs(i, 0, changetype<usize>(name));
  }

  /** True if entry i's value is exactly `value` as UTF-8 bytes. Decodes nothing. */
  valueIs(i: i32, value: string): bool {
    return this.partIs(i, 1, changetype<usize>(value));
  }

  /** The index of the first entry named `name` from `from` on, or -1. */
  indexOf(name: string, from: i32 = 0): i32 {
    for (let i = max(from, 0); i < this.count; i++) {
      if (this.partIs(i, 0, changetype<usize>(name))) return i;
    }
    return -1;
  }

  /** The first value of `name` decoded as UTF-8, or null when absent. */
  get(name: string): string | null {
    const i = this.indexOf(name);
    return i < 0 ? null : this.value(i);
  }

  /** Entry i's name decoded as UTF-8 (invalid sequences become U+FFFD: use nameBytes then). */
  name(i: i32): string {
    return this.decode(i, 0);
  }

  /** Entry i's value decoded as UTF-8 (invalid sequences become U+FFFD: use valueBytes then). */
  value(i: i32): string {
    return this.decode(i, 1);
  }

  /** Entry i's name as raw bytes (a copy). */
  nameBytes(i: i32): ArrayBuffer {
    return this.copy(i, 0);
  }

  /** Entry i's value as raw bytes (a copy). */
  valueBytes(i: i32): ArrayBuffer {
    return this.copy(i, 1);
  }

  /** Entry i's value length in bytes (0 outside the range). */
  valueLength(i: i32): i32 {
    return <u32>i < <u32>this.count ? <i32>this.lengthOf(i, 1) : 0;
  }

  private partIs(i: i32, part: usize, text: usize): bool {
    if (<u32>i >= <u32>this.count) return false;
    const at = this.at(i, part);
    const length = this.lengthOf(i, part);
    const units = stringByteLength(text) >> 1;
    // ASCII fast path: one byte per UTF-16 unit, compared as they are.
    if (units == length) {
      let k: usize = 0;
      for (; k < length; k++) {
        const unit = <u32>load<u16>(text + (k << 1));
        if (unit >= 0x80) break;
        if (unit != <u32>load<u8>(at + k)) return false;
      }
      if (k == length) return true;
    } else if (units > length) {
      return false; // every unit takes at least one byte
    }
    // Non-ASCII text: compare its UTF-8 form.
    const staged = stageText(2, text);
    return stagedLength(2) == length && memory.compare(staged, at, length) == 0;
  }

  private decode(i: i32, part: usize): string {
    return <u32>i < <u32>this.count ? utf8Decode(this.at(i, part), this.lengthOf(i, part)) : "";
  }

  private copy(i: i32, part: usize): ArrayBuffer {
    if (<u32>i >= <u32>this.count) return new ArrayBuffer(0);
    const length = this.lengthOf(i, part);
    const result = __new(length, idof<ArrayBuffer>());
    memory.copy(result, this.at(i, part), length);
    return changetype<ArrayBuffer>(result);
  }
}
