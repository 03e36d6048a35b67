// A compact UTF-8 codec for the SDK. The standard library's String.UTF8 is larger, and its
// decoder is lossy in surprising ways on invalid input; this one is small and predictable:
// invalid or truncated sequences decode to U+FFFD, lone surrogates encode as WTF-8 (3 bytes),
// matching what String.UTF8 does for them.

/** Byte length of the UTF-16 string at address `text`, read from its object header: a
 * `.length` call on a reference would cost a shadow-stack slot. */
// @ts-ignore: decorator
@inline export function stringByteLength(text: usize): usize {
  return <usize>load<u32>(text - 4);
}

// Four bytes at a time: the tests below set the top bit of a byte of `word` that matches (and may
// set it in a byte above a match, never in a word without one); their other bits mean nothing,
// so a caller masks the answer, or several answers or'ed together, with TOP_BITS once: 0 means
// that no byte of the word matches. Readers of plain text use them to step over four ASCII bytes
// at once.

/** The top bit of each of four bytes. */
// @ts-ignore: decorator
@inline export const TOP_BITS: u32 = 0x80808080;

/** Top bits set where a byte of `word` is `byte` (mask with TOP_BITS). */
// @ts-ignore: decorator
@inline export function bytesEqual(word: u32, byte: u32): u32 {
  const v = word ^ (byte * 0x01010101);
  return (v - 0x01010101) & ~v;
}


/** The top bit of each of eight bytes. */
// @ts-ignore: decorator
@inline export const TOP_BITS64: u64 = 0x8080808080808080;

/**
 * Top bits set (the rest cleared) where a byte of `word` (eight bytes) needs a JSON string
 * reader's attention: below 0x20, a quote, a backslash, or from 0x80; 0 when none does. The
 * subtractions of bytesEqual's test (and of the same test for "below 0x20") without their
 * `& ~word` parts: or'ed with `word` itself, the top bit those parts clear is set anyway. The lowest bit set (ctz) is always a byte that
 * matches: a borrow only runs upward from a match, so it can raise bits above it, never below.
 */
// @ts-ignore: decorator
@inline export function jsonSpecialBytes(word: u64): u64 {
  const ones: u64 = 0x0101010101010101;
  return ((word - 0x20 * ones) | ((word ^ (0x22 * ones)) - ones) | ((word ^ (0x5c * ones)) - ones) | word) & TOP_BITS64;
}

/** Writes the `count` ASCII bytes at `at` as `count` UTF-16 units at `out` (the caller knows
 * that every byte is below 0x80): eight at a time, each half of a word widened in registers. */
export function widenAscii(at: usize, count: usize, out: usize): void {
  const end = at + count;
  for (; at + 8 <= end; at += 8, out += 16) {
    const word = load<u64>(at);
    store<u64>(out, widen4(word & 0xffffffff));
    store<u64>(out, widen4(word >> 32), 8);
  }
  for (; at < end; at++, out += 2) store<u16>(out, <u16>load<u8>(at));
}

/** True if the `count` ASCII bytes at `at` are the `count` UTF-16 units at `units`. */
export function asciiEqualsUnits(at: usize, count: usize, units: usize): bool {
  const end = at + count;
  for (; at + 4 <= end; at += 4, units += 8) {
    if (widen4(<u64>load<u32>(at)) != load<u64>(units)) return false;
  }
  for (; at < end; at++, units += 2) {
    if (<u32>load<u8>(at) != <u32>load<u16>(units)) return false;
  }
  return true;
}

// Four bytes (the low half of `bytes`) spread into four 16-bit lanes.
// @ts-ignore: decorator
@inline function widen4(bytes: u64): u64 {
  bytes = (bytes | (bytes << 16)) & 0x0000ffff0000ffff;
  return (bytes | (bytes << 8)) & 0x00ff00ff00ff00ff;
}

// Walks the string at address `start` as UTF-8 from `out`; stores the bytes only when `write` is set (one function
// for both measuring and writing keeps the code small). Returns the end address. Internal
// callers pass addresses: no shadow-stack code.
export function utf8Walk(start: usize, out: usize, write: bool): usize {
  const end = start + stringByteLength(start);
  for (let at = start; at < end; at += 2) {
    let c = <u32>load<u16>(at);
    if (c < 0x80) {
      // ASCII, nearly every header name and value: one byte, no sequence arithmetic.
      if (write) store<u8>(out, <u8>c);
      out++;
      continue;
    }
    if ((c & 0xfc00) == 0xd800 && at + 2 < end) {
      const low = <u32>load<u16>(at + 2);
      if ((low & 0xfc00) == 0xdc00) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        at += 2;
      }
    }
    // Continuation bytes: lone surrogates take 3 bytes in all (WTF-8).
    const extra: u32 = c < 0x80 ? 0 : c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
    if (write) {
      for (let i = extra; i > 0; i--) {
        store<u8>(out + i, <u8>(0x80 | (c & 0x3f)));
        c >>= 6;
      }
      // The lead byte's marker: 0xc0, 0xe0 or 0xf0 for 1, 2 or 3 continuation bytes.
      store<u8>(out, <u8>(extra == 0 ? c : (0xff00 >> (extra + 1)) | c));
    }
    out += extra + 1;
  }
  return out;
}

/** Number of UTF-8 bytes `text` encodes to. */
export function utf8Length(text: string): usize {
  return utf8Walk(changetype<usize>(text), 0, false);
}

/** Writes `text` as UTF-8 at `out` (which must hold utf8Length(text) bytes); returns the end. */
export function utf8Encode(text: string, out: usize): usize {
  return utf8Walk(changetype<usize>(text), out, true);
}

/** `text` as a new ArrayBuffer of UTF-8 bytes. */
export function utf8Bytes(text: string): ArrayBuffer {
  const start = changetype<usize>(text);
  const bytes = __new(utf8Walk(start, 0, false), idof<ArrayBuffer>());
  utf8Walk(start, bytes, true);
  return changetype<ArrayBuffer>(bytes);
}

/** Bit 31 of decodeOne's answer: the bytes were not valid UTF-8 (the code point is U+FFFD). */
export const UTF8_INVALID: u32 = 1 << 31;
const INVALID = UTF8_INVALID;

/** Decodes one UTF-8 sequence at `at` (< end). Returns the code point in bits 0-20, the number of
 * bytes it took in bits 24-27 and UTF8_INVALID for a bad, overlong or truncated sequence. */
export function decodeOne(at: usize, end: usize): u32 {
  const lead = <u32>load<u8>(at);
  if (lead < 0x80) return lead | (1 << 24);
  let count: u32 = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc2 ? 1 : 0; // 0xc0, 0xc1: always overlong
  if (count == 0 || lead > 0xf4) return INVALID | 0xfffd | (1 << 24);
  let c = lead & (0x3f >> count);
  for (let i: usize = 1; i <= <usize>count; i++) {
    if (at + i >= end) return INVALID | 0xfffd | (<u32>i << 24);
    const next = <u32>load<u8>(at + i);
    if ((next & 0xc0) != 0x80) return INVALID | 0xfffd | (<u32>i << 24);
    c = (c << 6) | (next & 0x3f);
  }
  // Overlong 3- and 4-byte forms and values past U+10FFFF are invalid (0xc0/0xc1 leads,
  // the overlong 2-byte forms, were already refused).
  if (c < (count == 2 ? <u32>0x800 : <u32>0x10000) && count > 1 || c > 0x10ffff) return INVALID | 0xfffd | ((count + 1) << 24);
  return c | ((count + 1) << 24);
}

function hexDigit(c: u32): u32 {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

/**
 * Reads one character of text at `at` (< end) like decodeOne, except that a backslash starts an
 * escape (already validated by the JSON reader), which counts as one character: `\uXXXX` gives
 * one UTF-16 unit, so a surrogate pair arrives as two escapes. utf16Walk calls it for what its
 * own ASCII path does not take: bytes from 0x80, and a backslash only when it reads escapes.
 * Shared by the decoder and the JSON key comparison so that both read text the same way.
 */
export function readCodePoint(at: usize, end: usize): u32 {
  let c = <u32>load<u8>(at);
  if (c != 0x5c) return decodeOne(at, end);
  c = <u32>load<u8>(at + 1);
  if (c == 0x75) {
    return (hexDigit(load<u8>(at + 2)) << 12) | (hexDigit(load<u8>(at + 3)) << 8) | (hexDigit(load<u8>(at + 4)) << 4) | hexDigit(load<u8>(at + 5)) | (6 << 24);
  }
  if (c == 0x62) c = 0x08;
  else if (c == 0x66) c = 0x0c;
  else if (c == 0x6e) c = 0x0a;
  else if (c == 0x72) c = 0x0d;
  else if (c == 0x74) c = 0x09;
  return c | (2 << 24);
}

// Reads the text [at, end) as readCodePoint does and walks its UTF-16 units from `out`: stores
// them, or (with `compare`) checks them against the units already at `out`, which end at
// `outEnd`. Returns the address after the last unit, or 0 at the first difference. One walk for
// decoding and the JSON key comparison keeps both small and reading text alike.
function utf16Walk(at: usize, end: usize, out: usize, outEnd: usize, jsonEscapes: bool, compare: bool): usize {
  while (at < end) {
    // Four ASCII bytes at a time (none of them an escape's backslash when reading escapes):
    // each byte widened to its unit, the four units stored, or compared, at once; a block that
    // differs goes through the loop below, which finds where. A 1 KiB JSON configuration reads
    // in about a third fewer instructions (bench shape f7_json_config).
    if (at + 4 <= end) {
      const word = load<u32>(at);
      if ((word & TOP_BITS) == 0 && (!jsonEscapes || (bytesEqual(word, 0x5c) & TOP_BITS) == 0)) {
        const wide = widen4(<u64>word);
        if (!compare) {
          store<u64>(out, wide);
          at += 4;
          out += 8;
          continue;
        }
        if (out + 8 <= outEnd && load<u64>(out) == wide) {
          at += 4;
          out += 8;
          continue;
        }
      }
    }
    // ASCII other than an escape's backslash is its own unit: nearly all header and JSON text
    // takes this path, with no call and no unpacking of a decoded character.
    let units = <u32>load<u8>(at);
    let width: usize = 2;
    if (units < 0x80 && (units != 0x5c || !jsonEscapes)) at++;
    else {
      const decoded = readCodePoint(at, end);
      at += (decoded >> 24) & 0xf;
      units = decoded & 0x1fffff;
      if (units >= 0x10000) {
        // A surrogate pair, the high unit first in memory.
        units -= 0x10000;
        units = (0xd800 + (units >> 10)) | ((0xdc00 + (units & 0x3ff)) << 16);
        width = 4;
      }
    }
    if (compare) {
      if (out + width > outEnd || (width == 4 ? load<u32>(out) : <u32>load<u16>(out)) != units) return 0;
    } else if (width == 4) {
      store<u32>(out, units);
    } else {
      store<u16>(out, <u16>units);
    }
    out += width;
  }
  return out;
}

/**
 * True if the UTF-8 text [at, end), with JSON escapes decoded, is exactly the UTF-16 text
 * [text, textEnd), compared without decoding it into a new string.
 */
export function jsonTextEquals(at: usize, end: usize, text: usize, textEnd: usize): bool {
  return utf16Walk(at, end, text, textEnd, true, true) == textEnd;
}

/**
 * Decodes `length` UTF-8 bytes at `ptr` into a string. Never fails: each invalid, overlong or
 * truncated sequence becomes U+FFFD (use isValidUtf8 first to tell). With `jsonEscapes`,
 * backslash escapes are decoded too (the JSON reader passes the inside of a string it already
 * validated); sharing this loop keeps JSON support small.
 */
export function utf8Decode(ptr: usize, length: usize, jsonEscapes: bool = false): string {
  // One walk: no character takes fewer bytes than its UTF-16 units (ASCII 1 for 1, 2-3 bytes for
  // 1 unit, 4 for 2, an escape 2 or 6 for 1), so `length` units always fit; the string's size
  // (its header's rtSize, which `length` reads) is then lowered to what was written. The block
  // keeps its size (the collector frees blocks by their own size, not rtSize), so text that is
  // not ASCII leaves a few unused bytes until the string is freed; __renew would shrink it but
  // links the allocator's reallocation (about 400 bytes in add_header).
  const result = __new(length << 1, idof<string>());
  store<u32>(result - 4, <u32>(utf16Walk(ptr, ptr + length, result, 0, jsonEscapes, false) - result));
  return changetype<string>(result);
}

/**
 * True if `length` bytes at `ptr` are well-formed UTF-8: no stray continuation bytes, no
 * overlong forms, no surrogate code points (ED A0..BF xx, which the encoder writes only for
 * lone surrogates), nothing past U+10FFFF, no truncated sequence.
 */
export function utf8Valid(ptr: usize, length: usize): bool {
  const end = ptr + length;
  for (let at = ptr; at < end; ) {
    const decoded = decodeOne(at, end);
    if ((decoded & INVALID) != 0 || (decoded & 0x1ff800) == 0xd800) return false;
    at += (decoded >> 24) & 0xf;
  }
  return true;
}
