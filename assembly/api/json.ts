import { readCodePoint, utf8Bytes, utf8Decode } from "../runtime/utf8";

// A small, lazy JSON reader for plugin configurations, working on the UTF-8 bytes the host
// hands over. parseJson validates everything in one pass and builds nothing: a JsonValue is a
// (start, end) span of those bytes. Members are found by a linear scan that compares keys in
// place, strings are decoded only when read, and numbers are converted only by asNumber /
// getNumber, so a filter links only the accessors it calls.
//
// Every scanning helper works on plain addresses and offsets (no managed references): with the
// incremental runtime, each managed local that lives across a call costs shadow-stack code.

/** The kind of a JsonValue, from the first byte of its text. */
export const enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

// The byte at `at`, or -1 at or past `end`.
function byteAt(base: usize, at: i32, end: i32): i32 {
  return at < end ? <i32>load<u8>(base + at) : -1;
}

function skipSpace(base: usize, at: i32, end: i32): i32 {
  for (let c = byteAt(base, at, end); c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d; c = byteAt(base, ++at, end)) {}
  return at;
}

function isDigit(c: i32): bool {
  return <u32>(c - 0x30) < 10;
}

// End of the run of digits at `at`, or -1 if there is none.
function skipDigits(base: usize, at: i32, end: i32): i32 {
  const start = at;
  while (isDigit(byteAt(base, at, end))) at++;
  return at > start ? at : -1;
}

// End of the string whose quote is at `at`, or -1. Escapes are validated here so that
// decoding later cannot fail.
function skipString(base: usize, at: i32, end: i32): i32 {
  for (;;) {
    const c = byteAt(base, ++at, end);
    if (c < 0x20) return -1; // end of input or a raw control character
    if (c == 0x22) return at + 1;
    if (c == 0x5c) {
      const e = byteAt(base, ++at, end);
      if (e == 0x75) {
        for (let i = 0; i < 4; i++) {
          const h = byteAt(base, ++at, end) | 0x20; // lower case; digits keep their value
          if (!isDigit(h) && <u32>(h - 0x61) >= 6) return -1;
        }
      } else if (e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 && e != 0x74) {
        return -1;
      }
    }
  }
  return -1; // not reached: the loop only ends by returning
}

// Past the key string at `at`, the spaces and the ':' after it, and the spaces after that;
// -1 if that is not what follows.
function skipKey(base: usize, at: i32, end: i32): i32 {
  if (byteAt(base, at, end) != 0x22) return -1;
  at = skipString(base, at, end);
  if (at < 0) return -1;
  at = skipSpace(base, at, end);
  return byteAt(base, at, end) == 0x3a ? skipSpace(base, at + 1, end) : -1;
}

// End of the value starting at `at`, or -1 if it is not valid JSON (or nests deeper than 64).
function skipValue(base: usize, at: i32, end: i32, depth: i32): i32 {
  if (at < 0) return -1;
  const c = byteAt(base, at, end);
  if (c == 0x22) return skipString(base, at, end);
  if (c == 0x7b || c == 0x5b) {
    if (depth > 64) return -1;
    const close = c + 2; // '}' or ']'
    at = skipSpace(base, at + 1, end);
    if (byteAt(base, at, end) == close) return at + 1;
    for (;;) {
      if (c == 0x7b) at = skipKey(base, at, end);
      at = skipValue(base, at, end, depth + 1);
      if (at < 0) return -1;
      at = skipSpace(base, at, end);
      const next = byteAt(base, at, end);
      if (next == close) return at + 1;
      if (next != 0x2c) return -1;
      at = skipSpace(base, at + 1, end);
    }
  }
  // true, null and false: four bytes compared at once ("alse" after the 'f').
  const word = c == 0x74 ? 0x65757274 : c == 0x6e ? 0x6c6c756e : c == 0x66 ? 0x65736c61 : 0;
  if (word != 0) {
    if (c == 0x66) at++;
    return at + 4 <= end && load<u32>(base + at) == <u32>word ? at + 4 : -1;
  }
  if (c == 0x2d) at++;
  at = skipDigits(base, at, end);
  if (at >= 0 && byteAt(base, at, end) == 0x2e) at = skipDigits(base, at + 1, end);
  if (at >= 0 && (byteAt(base, at, end) | 0x20) == 0x65) {
    const sign = byteAt(base, ++at, end);
    if (sign == 0x2b || sign == 0x2d) at++;
    at = skipDigits(base, at, end);
  }
  return at;
}

// Whether the JSON string text between `at` and `end` (no quotes, escapes allowed) is `text`
// (a string's address and byte length), without decoding it into a new string.
function textEquals(at: usize, end: usize, text: usize, textEnd: usize): bool {
  while (at < end) {
    const decoded = readCodePoint(at, end, true);
    at += (decoded >> 24) & 0xf;
    let c = decoded & 0x1fffff;
    if (c >= 0x10000) {
      if (text >= textEnd || <u32>load<u16>(text) != 0xd800 + ((c - 0x10000) >> 10)) return false;
      text += 2;
      c = 0xdc00 + ((c - 0x10000) & 0x3ff);
    }
    if (text >= textEnd || <u32>load<u16>(text) != c) return false;
    text += 2;
  }
  return text == textEnd;
}

// In validated text: past the next structural byte after `at` ('{', '[', ',' or ':') and the
// spaces around it, i.e. the start of the next member, item or value; `end - 1` (the closing
// bracket) when there is none.
function nextEntry(base: usize, at: i32, end: i32): i32 {
  return skipSpace(base, skipSpace(base, at, end) + 1, end);
}

/** One value inside a validated JSON text: a span of its bytes. Accessors return null / 0 /
 * false (or the given fallback) when the kind does not match. Valid as long as the filter
 * holds it (it keeps the bytes alive). */
export class JsonValue {
  constructor(
    private readonly bytes: ArrayBuffer,
    private readonly start: i32,
    private readonly end: i32,
  ) {}

  private first(): i32 {
    return <i32>load<u8>(changetype<usize>(this.bytes) + this.start);
  }

  /** The kind of this value. */
  get kind(): JsonKind {
    const c = this.first();
    if (c == 0x22) return JsonKind.String;
    if (c == 0x7b) return JsonKind.Object;
    if (c == 0x5b) return JsonKind.Array;
    if (c == 0x6e) return JsonKind.Null;
    if (c == 0x74 || c == 0x66) return JsonKind.Bool;
    return JsonKind.Number;
  }

  /** The exact JSON text of this value, as in the source (spaces inside kept). */
  toJson(): string {
    return utf8Decode(changetype<usize>(this.bytes) + this.start, this.end - this.start);
  }

  /** The string with escapes decoded (invalid UTF-8 inside becomes U+FFFD), or null if this
   * is not a string. */
  asString(): string | null {
    if (this.first() != 0x22) return null;
    return utf8Decode(changetype<usize>(this.bytes) + this.start + 1, this.end - this.start - 2, true);
  }

  /** The number (f64, computed digit by digit: exact for integers up to 2^53), or 0 if this
   * is not a number. */
  asNumber(): f64 {
    const base = changetype<usize>(this.bytes);
    const end = this.end;
    let at = this.start;
    const negative = this.first() == 0x2d;
    if (negative) at++;
    if (!isDigit(byteAt(base, at, end))) return 0;
    let value: f64 = 0;
    let scale: f64 = 1;
    let exponent: i32 = 0;
    let exponentSign: i32 = 1;
    let part = 0; // 0 integer, 1 fraction, 2 exponent
    for (; at < end; at++) {
      const c = <i32>load<u8>(base + at);
      if (isDigit(c)) {
        if (part == 2) exponent = min(exponent * 10 + c - 0x30, 400);
        else {
          value = value * 10 + <f64>(c - 0x30);
          if (part == 1) scale *= 10;
        }
      } else if (c == 0x2e) part = 1;
      else if (c == 0x2d) exponentSign = -1;
      else if (c != 0x2b) part = 2; // 'e' or 'E'
    }
    value /= scale;
    for (; exponent > 0; exponent--) value = exponentSign > 0 ? value * 10 : value / 10;
    return negative ? -value : value;
  }

  /** True only for `true`; false for `false` and for every other kind. */
  asBool(): bool {
    return this.first() == 0x74;
  }

  /** True only for `null`. */
  get isNull(): bool {
    return this.first() == 0x6e;
  }

  /** Object member `key` (the last one if repeated), or null if absent or this is not an
   * object. Scans the members each call. */
  get(key: string): JsonValue | null {
    if (this.first() != 0x7b) return null;
    const base = changetype<usize>(this.bytes);
    const end = this.end;
    const text = changetype<usize>(key);
    const textEnd = text + (<usize>key.length << 1);
    let foundStart = -1;
    let foundEnd = 0;
    for (let at = nextEntry(base, this.start, end); at < end - 1; ) {
      const keyEnd = skipString(base, at, end);
      const matches = textEquals(base + at + 1, base + keyEnd - 1, text, textEnd);
      at = nextEntry(base, keyEnd, end); // past ':'
      const valueEnd = skipValue(base, at, end, 0);
      if (matches) {
        foundStart = at;
        foundEnd = valueEnd;
      }
      at = nextEntry(base, valueEnd, end); // past ','
    }
    return foundStart < 0 ? null : new JsonValue(this.bytes, foundStart, foundEnd);
  }

  /** Array item `index` (from 0), or null if out of range or this is not an array. */
  at(index: i32): JsonValue | null {
    if (this.first() != 0x5b) return null;
    const base = changetype<usize>(this.bytes);
    const end = this.end;
    for (let at = nextEntry(base, this.start, end), i = 0; at < end - 1; i++) {
      const valueEnd = skipValue(base, at, end, 0);
      if (i == index) return new JsonValue(this.bytes, at, valueEnd);
      at = nextEntry(base, valueEnd, end);
    }
    return null;
  }

  /** Object member `key` as a string, or null if absent, not a string, or this is not an
   * object. */
  getString(key: string): string | null {
    const value = this.get(key);
    return value === null ? null : value.asString();
  }

  /** Object member `key` as a number, or `fallback` if absent, not a number, or this is not
   * an object. */
  getNumber(key: string, fallback: f64 = 0): f64 {
    const value = this.get(key);
    return value === null || value.kind != JsonKind.Number ? fallback : value.asNumber();
  }

  /** Object member `key` as a boolean, or `fallback` if absent, not a boolean, or this is not
   * an object. */
  getBool(key: string, fallback: bool = false): bool {
    const value = this.get(key);
    return value === null || value.kind != JsonKind.Bool ? fallback : value.asBool();
  }

  /** Number of array items; 0 if this is not an array. Walks the array once. */
  get length(): i32 {
    if (this.first() != 0x5b) return 0;
    const base = changetype<usize>(this.bytes);
    const end = this.end;
    let count = 0;
    for (let at = nextEntry(base, this.start, end); at < end - 1; count++) {
      at = nextEntry(base, skipValue(base, at, end, 0), end);
    }
    return count;
  }
}

/** Validates UTF-8 JSON bytes (e.g. RootContext.pluginConfiguration()) as one value with
 * optional surrounding spaces, nesting up to 64 deep. Returns the root value, or null if the
 * bytes are not valid JSON. The bytes are not copied: do not change them afterwards. */
export function parseJson(bytes: ArrayBuffer): JsonValue | null {
  const base = changetype<usize>(bytes);
  const end = bytes.byteLength;
  const start = skipSpace(base, 0, end);
  const valueEnd = skipValue(base, start, end, 0);
  if (valueEnd < 0 || skipSpace(base, valueEnd, end) != end) return null;
  return new JsonValue(bytes, start, valueEnd);
}

/** parseJson for a string (encoded as UTF-8 first); null if it is not valid JSON. */
export function parseJsonText(text: string): JsonValue | null {
  return parseJson(utf8Bytes(text));
}
