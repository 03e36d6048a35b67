import { utf8Bytes, utf8Decode } from "../runtime/utf8";

// A small, lazy JSON reader for plugin configurations, working on the UTF-8 bytes the host
// hands over (no decoding of the whole text). parseJson validates everything once; after that
// a JsonValue is only a span of those bytes, and members, items, strings and numbers are
// decoded when asked for. Only the accessors a filter calls are linked in, and nothing is
// allocated that the filter does not read. Numbers are f64 computed digit by digit (exact for
// integers up to 2^53).

export const enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

// The byte at `at`, or -1 past `end`.
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

// String equality without linking the generic String.__eq.
function sameText(a: string, b: string): bool {
  const length = a.length;
  if (length != b.length) return false;
  for (let i = 0; i < length; i++) {
    if (load<u16>(changetype<usize>(a) + (<usize>i << 1)) != load<u16>(changetype<usize>(b) + (<usize>i << 1))) return false;
  }
  return true;
}

function hexValue(c: i32): i32 {
  if (isDigit(c)) return c - 0x30;
  c = (c | 0x20) - 0x61;
  return <u32>c < 6 ? c + 10 : -1;
}

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
        for (let i = 0; i < 4; i++) if (hexValue(byteAt(base, ++at, end)) < 0) return -1;
      } else if (e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 && e != 0x74) {
        return -1;
      }
    }
  }
  return -1;
}

// End of the literal `word` (4 ASCII bytes, little-endian) at `at`, plus `extra` more bytes
// that must equal `last` (for "false"), or -1.
function skipWord(base: usize, at: i32, end: i32, word: u32, length: i32): i32 {
  if (at + length > end || load<u32>(base + at) != word) return -1;
  if (length == 5 && load<u8>(base + at + 4) != 0x65) return -1;
  return at + length;
}

// End of the value starting at `at`, or -1 if it is not valid JSON.
function skipValue(base: usize, at: i32, end: i32, depth: i32): i32 {
  const c = byteAt(base, at, end);
  if (c == 0x22) return skipString(base, at, end);
  if (c == 0x7b || c == 0x5b) {
    if (depth > 64) return -1;
    const close = c + 2; // '}' or ']'
    at = skipSpace(base, at + 1, end);
    if (byteAt(base, at, end) == close) return at + 1;
    for (;;) {
      if (c == 0x7b) {
        if (byteAt(base, at, end) != 0x22) return -1;
        at = skipString(base, at, end);
        if (at < 0) return -1;
        at = skipSpace(base, at, end);
        if (byteAt(base, at, end) != 0x3a) return -1;
        at = skipSpace(base, at + 1, end);
      }
      at = skipValue(base, at, end, depth + 1);
      if (at < 0) return -1;
      at = skipSpace(base, at, end);
      const next = byteAt(base, at, end);
      if (next == close) return at + 1;
      if (next != 0x2c) return -1;
      at = skipSpace(base, at + 1, end);
    }
  }
  if (c == 0x74) return skipWord(base, at, end, 0x65757274, 4); // "true"
  if (c == 0x66) return skipWord(base, at, end, 0x736c6166, 5); // "fals" + "e"
  if (c == 0x6e) return skipWord(base, at, end, 0x6c6c756e, 4); // "null"
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

/** One value inside a validated JSON text. Accessors return null / 0 / false when the kind
 * does not match. Valid as long as the filter holds it (it keeps the bytes alive). */
export class JsonValue {
  constructor(
    private readonly bytes: ArrayBuffer,
    private readonly start: i32,
    private readonly end: i32,
  ) {}

  private first(): i32 {
    return <i32>load<u8>(changetype<usize>(this.bytes) + this.start);
  }

  get kind(): JsonKind {
    const c = this.first();
    if (c == 0x22) return JsonKind.String;
    if (c == 0x7b) return JsonKind.Object;
    if (c == 0x5b) return JsonKind.Array;
    if (c == 0x6e) return JsonKind.Null;
    if (c == 0x74 || c == 0x66) return JsonKind.Bool;
    return JsonKind.Number;
  }

  /** The exact JSON text of this value. */
  toJson(): string {
    return utf8Decode(changetype<usize>(this.bytes) + this.start, this.end - this.start);
  }

  /** The string with escapes decoded, or null if this is not a string. */
  asString(): string | null {
    if (this.first() != 0x22) return null;
    return utf8Decode(changetype<usize>(this.bytes) + this.start + 1, this.end - this.start - 2, true);
  }

  /** The number, or 0 if this is not a number. */
  asNumber(): f64 {
    const base = changetype<usize>(this.bytes);
    let at = this.start;
    const negative = this.first() == 0x2d;
    if (negative) at++;
    if (!isDigit(byteAt(base, at, this.end))) return 0;
    let value: f64 = 0;
    let scale: f64 = 1;
    let exponent: i32 = 0;
    let exponentSign: i32 = 1;
    let part = 0; // 0 integer, 1 fraction, 2 exponent
    for (; at < this.end; at++) {
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

  /** True only for `true`. */
  asBool(): bool {
    return this.first() == 0x74;
  }

  get isNull(): bool {
    return this.first() == 0x6e;
  }

  // Start of the first member or item (after '{' / '['), or of the next one after a value
  // ending at `valueEnd`; reaching this.end - 1 means there are no more.
  private next(valueEnd: i32): i32 {
    const base = changetype<usize>(this.bytes);
    return skipSpace(base, skipSpace(base, valueEnd, this.end) + 1, this.end);
  }

  /** Object member `key` (the last one if repeated), or null if absent or not an object. */
  get(key: string): JsonValue | null {
    if (this.first() != 0x7b) return null;
    const base = changetype<usize>(this.bytes);
    const end = this.end;
    let found: JsonValue | null = null;
    for (let at = this.next(this.start); at < end - 1; ) {
      const keyEnd = skipString(base, at, end);
      const matches = sameText(utf8Decode(base + at + 1, keyEnd - at - 2, true), key);
      at = this.next(keyEnd); // past ':'
      const valueEnd = skipValue(base, at, end, 0);
      if (matches) found = new JsonValue(this.bytes, at, valueEnd);
      at = this.next(valueEnd); // past ','
    }
    return found;
  }

  /** Array item `index`, or null if out of range or not an array. */
  at(index: i32): JsonValue | null {
    if (this.first() != 0x5b) return null;
    const base = changetype<usize>(this.bytes);
    const end = this.end;
    for (let at = this.next(this.start), i = 0; at < end - 1; i++) {
      const valueEnd = skipValue(base, at, end, 0);
      if (i == index) return new JsonValue(this.bytes, at, valueEnd);
      at = this.next(valueEnd);
    }
    return null;
  }

  /** Object member `key` as a string, or null if absent or not a string. */
  getString(key: string): string | null {
    const value = this.get(key);
    return value === null ? null : value.asString();
  }

  /** Object member `key` as a number, or `fallback` if absent or not a number. */
  getNumber(key: string, fallback: f64 = 0): f64 {
    const value = this.get(key);
    return value === null || value.kind != JsonKind.Number ? fallback : value.asNumber();
  }

  /** Object member `key` as a boolean, or `fallback` if absent or not a boolean. */
  getBool(key: string, fallback: bool = false): bool {
    const value = this.get(key);
    return value === null || value.kind != JsonKind.Bool ? fallback : value.asBool();
  }

  /** Number of array items; 0 if not an array. Walks the array once per item. */
  get length(): i32 {
    let count = 0;
    while (this.at(count) !== null) count++;
    return count;
  }
}

/** Validates UTF-8 JSON bytes (e.g. RootContext.pluginConfiguration()) as one value, nesting
 * up to 64 deep; null if they are not valid JSON. */
export function parseJson(bytes: ArrayBuffer): JsonValue | null {
  const base = changetype<usize>(bytes);
  const end = bytes.byteLength;
  const start = skipSpace(base, 0, end);
  const valueEnd = skipValue(base, start, end, 0);
  if (valueEnd < 0 || skipSpace(base, valueEnd, end) != end) return null;
  return new JsonValue(bytes, start, valueEnd);
}

/** parseJson for a string. */
export function parseJsonText(text: string): JsonValue | null {
  return parseJson(utf8Bytes(text));
}
