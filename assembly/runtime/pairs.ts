import { utf8Bytes, utf8Decode } from "./utf8";

// The "pairs" wire format for header maps and metadata (proxy-wasm-abi.md §3.2):
//   u32 count, count x (u32 keyLength, u32 valueLength), then each key and value NUL-terminated.
// Keys and values are raw bytes; nothing here assumes UTF-8.

/** One header (or metadata / map entry) as raw bytes, with string views decoded on demand. */
export class Header {
  constructor(
    /** The key as raw bytes, exactly as the host sent it (not necessarily UTF-8). */
    public keyBytes: ArrayBuffer,
    /** The value as raw bytes, exactly as the host sent it (not necessarily UTF-8). */
    public valueBytes: ArrayBuffer,
  ) {}

  /** A header from UTF-8 strings. */
  static of(key: string, value: string): Header {
    return new Header(utf8Bytes(key), utf8Bytes(value));
  }

  /** The key decoded as UTF-8 (invalid sequences become U+FFFD: use keyBytes then). */
  get key(): string {
    return utf8Decode(changetype<usize>(this.keyBytes), this.keyBytes.byteLength);
  }

  /** The value decoded as UTF-8 (invalid sequences become U+FFFD: use valueBytes then). */
  get value(): string {
    return utf8Decode(changetype<usize>(this.valueBytes), this.valueBytes.byteLength);
  }
}

/** Serialises headers into the pairs format. An empty list gives a 4-byte zero count. */
export function serializePairs(headers: Array<Header>): ArrayBuffer {
  const result = new ArrayBuffer(<i32>pairsSize(headers)); // zeroed: the NUL terminators are already there
  writePairs(headers, changetype<usize>(result));
  return result;
}

// A raw block reused for outgoing pairs (see stagePairs): it grows to the largest list ever sent.
let stagedPairs: usize = 0;
let stagedPairsCapacity: usize = 0;
let stagedPairsSize: usize = 0;

/**
 * Serialises headers into a block the SDK reuses, for a hostcall that reads them at once
 * (httpCall): no allocation per call, where serializePairs makes a new buffer every time.
 * Returns the block's address; its size is stagedPairsLength(). The next stagePairs overwrites it.
 */
export function stagePairs(headers: Array<Header>): usize {
  const size = pairsSize(headers);
  if (size > stagedPairsCapacity) {
    if (stagedPairs != 0) heap.free(stagedPairs);
    stagedPairs = heap.alloc(size);
    stagedPairsCapacity = size;
  }
  // Not zeroed like a new ArrayBuffer: the NULs are written.
  memory.fill(stagedPairs, 0, size);
  writePairs(headers, stagedPairs);
  stagedPairsSize = size;
  return stagedPairs;
}

/** Size in bytes of the pairs last staged by stagePairs. */
export function stagedPairsLength(): usize {
  return stagedPairsSize;
}

function pairsSize(headers: Array<Header>): usize {
  const count = headers.length;
  let size: usize = 4 + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const h = unchecked(headers[i]);
    size += <usize>h.keyBytes.byteLength + <usize>h.valueBytes.byteLength + 2;
  }
  return size;
}

// Writes the pairs into zeroed memory at `base` (the NUL terminators are the zeros left).
function writePairs(headers: Array<Header>, base: usize): void {
  const count = headers.length;
  store<u32>(base, count);
  let lengths = base + 4;
  let data = lengths + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const h = unchecked(headers[i]);
    const keyLength = h.keyBytes.byteLength;
    const valueLength = h.valueBytes.byteLength;
    store<u32>(lengths, keyLength);
    store<u32>(lengths, valueLength, 4);
    lengths += 8;
    memory.copy(data, changetype<usize>(h.keyBytes), keyLength);
    data += keyLength + 1;
    memory.copy(data, changetype<usize>(h.valueBytes), valueLength);
    data += valueLength + 1;
  }
}

function copyOut(from: usize, length: u32): ArrayBuffer {
  const result = changetype<ArrayBuffer>(__new(length, idof<ArrayBuffer>()));
  memory.copy(changetype<usize>(result), from, length);
  return result;
}

/**
 * Parses a pairs block at [ptr, ptr + size). Fewer than 4 bytes (including the empty map the
 * host sends as ptr 0 / size 0 and the 1-byte form the spec allows) gives an empty list; so
 * does a malformed block, since host data must never make the SDK trap.
 */
export function deserializePairs(ptr: usize, size: usize): Array<Header> {
  const headers = new Array<Header>();
  if (size < 4) return headers;
  const count = <usize>load<u32>(ptr);
  const end = ptr + size;
  // Each entry needs 8 bytes of lengths and 2 NULs: this bound also keeps the math in range.
  if (count > (size - 4) / 10) return headers;
  let lengths = ptr + 4;
  let data = lengths + count * 8;
  for (let i: usize = 0; i < count; i++) {
    const keyLength = load<u32>(lengths);
    const valueLength = load<u32>(lengths, 4);
    lengths += 8;
    if (<u64>data + <u64>keyLength + <u64>valueLength + 2 > <u64>end) return new Array<Header>();
    const key = copyOut(data, keyLength);
    data += <usize>keyLength + 1;
    const value = copyOut(data, valueLength);
    data += <usize>valueLength + 1;
    headers.push(new Header(key, value));
  }
  return headers;
}
