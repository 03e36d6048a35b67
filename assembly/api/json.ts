import { appendDecimal, appendWord, MESSAGE_START, Word } from "../runtime/abort";
import { decodeOne, jsonSpecialBytes, jsonTextEquals, stringByteLength, utf8Bytes, utf8Decode, UTF8_INVALID } from "../runtime/utf8";

// A small, lazy JSON reader for plugin configurations, working on the UTF-8 bytes the host
// hands over. parseJson validates everything in one pass and builds nothing: a JsonValue is a
// (start, end) span of those bytes. Members are found by a linear scan that compares keys in
// place, strings are decoded only when read, and numbers are converted only by asNumber /
// getNumber, so a filter links only the accessors it calls.
//
// Everything below works on plain addresses (usize), never on managed references: with the
// incremental runtime each managed value that lives across a call, or is passed to one, costs
// shadow-stack code. Address 0 means "invalid" (no heap block starts there).

/** The kind of a JsonValue, from the first byte of its text. */
export const enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

// The byte at `at`, or 0 at or past `end` (0 is never valid outside a string).
function byteAt(at: usize, end: usize): u32 {
  return at < end ? <u32>load<u8>(at) : 0;
}

/** Past the JSON spaces at `at`. */
export function skipSpace(at: usize, end: usize): usize {
  // Minified text, what Envoy sends (a Struct printed as JSON), has no space between tokens.
  if (at < end && load<u8>(at) > 0x20) return at;
  for (let c = byteAt(at, end); c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d; c = byteAt(++at, end)) {}
  return at;
}

// @ts-ignore: decorator
@inline function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

// End of the run of digits at `at`, or 0 if there is none.
function skipDigits(at: usize, end: usize): usize {
  const start = at;
  while (at < end && isDigit(load<u8>(at))) at++;
  return at > start ? at : 0;
}

// Where the last skipValue failure happened (the address of the offending byte, or the end of
// the text when it ended too early); read only by jsonError, which classifies it lazily.
let failedAt: usize = 0;
let failedDeep = false;

// Records a failure at `at` and returns 0, skipValue's failure answer.
function fail(at: usize): usize {
  failedAt = at;
  return 0;
}

/** The end address of the last string stringEnd accepted that has no escape and no byte from
 * 0x80 (its bytes are then its UTF-16 units, one for one), or 0 when that string had one. The
 * typed configuration's reader decodes and compares such strings without the general walk. */
export let plainStringEnd: usize = 0;

/**
 * End of the JSON string whose opening quote is at `at` (past its closing quote), or 0 when
 * it is not a valid string (failedAt then tells where): escapes and the UTF-8 inside are
 * validated, so decoding it later cannot fail. Sets plainStringEnd.
 */
export function stringEnd(at: usize, end: usize): usize {
  let plain = true;
  for (;;) {
    // Eight plain bytes at a time (none below 0x20, a quote, a backslash or from 0x80); at the
    // first word with one, straight to that byte.
    while (at + 9 <= end) {
      const word = load<u64>(at + 1);
      const special = jsonSpecialBytes(word);
      if (special != 0) {
        at += <usize>(ctz(special) >> 3);
        break;
      }
      at += 8;
    }
    // byteAt written out: this loop runs once per special byte, and per byte near the end.
    let b: u32 = ++at < end ? <u32>load<u8>(at) : 0;
    if (b < 0x20) return fail(at); // end of input or a raw control character
    if (b == 0x22) {
      plainStringEnd = plain ? at + 1 : 0;
      return at + 1;
    }
    if (b >= 0x80) {
      // Not UTF-8, a surrogate code point or a truncated sequence: the text is not JSON
      // (RFC 8259 §8.1), and Envoy's protobuf JSON parser refuses it too.
      const decoded = decodeOne(at, end);
      if ((decoded & UTF8_INVALID) != 0 || (decoded & 0x1ff800) == 0xd800) return fail(at);
      at += ((decoded >> 24) & 0xf) - 1;
      plain = false;
    } else if (b == 0x5c) {
      const escape = at;
      b = byteAt(++at, end);
      if (b == 0x75) {
        for (let i = 0; i < 4; i++) {
          const h = byteAt(++at, end) | 0x20; // lower case; digits keep their value
          if (!isDigit(h) && h - 0x61 >= 6) return fail(escape);
        }
      } else if (b != 0x22 && b != 0x5c && b != 0x2f && (b - 0x62 >= 19 || ((0x51011 >> (b - 0x62)) & 1) == 0)) {
        return fail(escape); // not one of " \ / b f n r t (the mask: b f n r t as bits from 'b')
      }
      plain = false;
    }
  }
  // @ts-ignore: every way out of the loop above returns
  return unreachable();
}

// End of the value starting at `at`, or 0 if it is not valid JSON (or nests deeper than 64),
// with the failure's address in failedAt. Validates string escapes and the UTF-8 inside strings
// too, so decoding later cannot fail. One function for every kind keeps the code small;
// parseJson runs it once over the whole text, the accessors use it to step over values they
// already know are valid.
export function skipValue(at: usize, end: usize, depth: i32): usize {
  if (at == 0) return 0;
  if (depth > 64) {
    failedDeep = true;
    return fail(at);
  }
  const c = byteAt(at, end);
  if (c == 0x22) return stringEnd(at, end);
  if (c == 0x7b || c == 0x5b) {
    const close = c + 2; // '}' or ']'
    at = skipSpace(at + 1, end);
    if (byteAt(at, end) == close) return at + 1;
    for (;;) {
      if (c == 0x7b) {
        if (byteAt(at, end) != 0x22) return fail(at);
        at = skipValue(at, end, depth);
        if (at == 0) return 0;
        at = skipSpace(at, end);
        if (byteAt(at, end) != 0x3a) return fail(at);
        at = skipSpace(at + 1, end);
      }
      at = skipValue(at, end, depth + 1);
      if (at == 0) return 0;
      at = skipSpace(at, end);
      const next = byteAt(at, end);
      if (next == close) return at + 1;
      if (next != 0x2c) return fail(at);
      at = skipSpace(at + 1, end);
    }
  }
  // true, null and false: four bytes compared at once ("alse" after the 'f').
  const word: u32 = c == 0x74 ? 0x65757274 : c == 0x6e ? 0x6c6c756e : c == 0x66 ? 0x65736c61 : 0;
  if (word != 0) {
    const start = at;
    if (c == 0x66) at++;
    return at + 4 <= end && load<u32>(at) == word ? at + 4 : fail(start);
  }
  if (c == 0x2d) at++;
  // A leading 0 is the whole integer part: `01` is not JSON (RFC 8259 §6), and the `1` after it
  // is then an unexpected character.
  let next = skipDigits(at, byteAt(at, end) == 0x30 ? at + 1 : end);
  if (next != 0 && byteAt(next, end) == 0x2e) next = skipDigits(at = next + 1, end);
  if (next != 0 && (byteAt(next, end) | 0x20) == 0x65) {
    at = next + 1;
    const sign = byteAt(at, end);
    if (sign == 0x2b || sign == 0x2d) at++;
    next = skipDigits(at, end);
  }
  return next != 0 ? next : fail(at);
}

/** The number written at [at, end) (f64, computed digit by digit: exact for integers up to
 * 2^53), or 0 if the text there is not a number. */
export function numberAt(at: usize, end: usize): f64 {
  const negative = byteAt(at, end) == 0x2d;
  if (negative) at++;
  if (!isDigit(byteAt(at, end))) return 0;
  let value: f64 = 0;
  let scale: f64 = 1;
  let exponent: i32 = 0;
  let exponentSign: i32 = 1;
  let part = 0; // 0 integer, 1 fraction, 2 exponent
  for (; at < end; at++) {
    const c = <u32>load<u8>(at);
    if (isDigit(c)) {
      if (part == 2) exponent = min(exponent * 10 + <i32>c - 0x30, 400);
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

// A JsonValue's fields, read and written through its address.
// @ts-ignore: decorator
@inline const BYTES = offsetof<JsonValue>("bytes");
// @ts-ignore: decorator
@inline const START = offsetof<JsonValue>("start");
// @ts-ignore: decorator
@inline const END = offsetof<JsonValue>("end");

// A new JsonValue for the span [start, end) (addresses) of the text of the JsonValue at
// `parent` (or, from parseJson, of the ArrayBuffer at `bytes`).
function newValue(bytes: usize, start: usize, end: usize): usize {
  const value = __new(offsetof<JsonValue>(), idof<JsonValue>());
  store<usize>(value, bytes, BYTES);
  __link(value, bytes, false);
  store<u32>(value, <u32>(start - bytes), START);
  store<u32>(value, <u32>(end - bytes), END);
  return value;
}

// First byte of the value at `value`, its text's start and end addresses.
function firstByte(value: usize): u32 {
  return load<u8>(load<usize>(value, BYTES) + load<u32>(value, START));
}
function textStart(value: usize): usize {
  return load<usize>(value, BYTES) + load<u32>(value, START);
}
function textEnd(value: usize): usize {
  return load<usize>(value, BYTES) + load<u32>(value, END);
}

// In validated text: past the structural byte at or after `at` ('{', '[', ',' or ':') and
// the spaces around it.
export function nextEntry(at: usize, end: usize): usize {
  return skipSpace(skipSpace(at, end) + 1, end);
}

// Start address of member `key` (the last one if repeated) of the object at `value`, or 0;
// the member's end address goes to memberEnd.
function memberOf(value: usize, text: usize, length: usize): usize {
  if (firstByte(value) != 0x7b) return 0;
  const end = textEnd(value);
  let found: usize = 0;
  for (let at = nextEntry(textStart(value), end); at < end - 1; ) {
    const keyEnd = skipValue(at, end, 0);
    const valueStart = nextEntry(keyEnd, end); // past ':'
    const valueEnd = skipValue(valueStart, end, 0);
    if (jsonTextEquals(at + 1, keyEnd - 1, text, text + (length << 1))) {
      found = valueStart;
      memberEnd = valueEnd;
    }
    at = nextEntry(valueEnd, end); // past ',' (or the closing '}')
  }
  return found;
}
let memberEnd: usize = 0;

// Start address of item `index` of the array at `value` (0 if there is none), or with
// index -1 the address just past its last item walk, counting into COUNT.
function itemOf(value: usize, index: i32): usize {
  if (firstByte(value) != 0x5b) return 0;
  const end = textEnd(value);
  let i = 0;
  for (let at = nextEntry(textStart(value), end); at < end - 1; i++) {
    if (i == index) return at;
    at = nextEntry(skipValue(at, end, 0), end);
  }
  itemCount = i;
  return 0;
}
let itemCount = 0;

// A new JsonValue for the value starting at `at` inside the JsonValue at `parent`, or 0.
function childOf(parent: usize, at: usize): usize {
  if (at == 0) return 0;
  return newValue(load<usize>(parent, BYTES), at, skipValue(at, textEnd(parent), 0));
}

/** One value inside a validated JSON text: a span of its bytes. Accessors return null / 0 /
 * false (or the given fallback) when the kind does not match. Valid as long as the filter
 * holds it (it keeps the bytes alive). */
export class JsonValue {
  // The SDK creates values with newValue, which writes these fields in this order (BYTES,
  // START, END above): a raw write needs no shadow-stack code. Offsets are from `bytes`.
  constructor(
    private readonly bytes: ArrayBuffer,
    private readonly start: i32,
    private readonly end: i32,
  ) {}

  /** The kind of this value. */
  get kind(): JsonKind {
    const c = firstByte(changetype<usize>(this));
    if (c == 0x22) return JsonKind.String;
    if (c == 0x7b) return JsonKind.Object;
    if (c == 0x5b) return JsonKind.Array;
    if (c == 0x6e) return JsonKind.Null;
    if (c == 0x74 || c == 0x66) return JsonKind.Bool;
    return JsonKind.Number;
  }

  /** The exact JSON text of this value, as in the source (spaces inside kept). */
  toJson(): string {
    const self = changetype<usize>(this);
    return utf8Decode(textStart(self), textEnd(self) - textStart(self));
  }

  /** The string with escapes decoded (invalid UTF-8 inside becomes U+FFFD), or null if this
   * is not a string. */
  asString(): string | null {
    const self = changetype<usize>(this);
    if (firstByte(self) != 0x22) return null;
    return utf8Decode(textStart(self) + 1, textEnd(self) - textStart(self) - 2, true);
  }

  /** The number (f64, computed digit by digit: exact for integers up to 2^53), or 0 if this
   * is not a number. */
  asNumber(): f64 {
    const self = changetype<usize>(this);
    return numberAt(textStart(self), textEnd(self));
  }

  /** True only for `true`; false for `false` and for every other kind. */
  asBool(): bool {
    return firstByte(changetype<usize>(this)) == 0x74;
  }

  /** True only for `null`. */
  get isNull(): bool {
    return firstByte(changetype<usize>(this)) == 0x6e;
  }

  /** Object member `key` (the last one if repeated), or null if absent or this is not an
   * object. Scans the members each call. */
  get(key: string): JsonValue | null {
    const self = changetype<usize>(this);
    const text = changetype<usize>(key);
    return changetype<JsonValue | null>(childOf(self, memberOf(self, text, stringByteLength(text) >> 1)));
  }

  /** Array item `index` (from 0), or null if out of range or this is not an array. */
  at(index: i32): JsonValue | null {
    const self = changetype<usize>(this);
    return changetype<JsonValue | null>(index < 0 ? <usize>0 : childOf(self, itemOf(self, index)));
  }

  /** Object member `key` as a string, or null if absent, not a string, or this is not an
   * object. */
  getString(key: string): string | null {
    const self = changetype<usize>(this);
    const text = changetype<usize>(key);
    const at = memberOf(self, text, stringByteLength(text) >> 1);
    if (at == 0 || load<u8>(at) != 0x22) return null;
    return utf8Decode(at + 1, memberEnd - at - 2, true);
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
    itemCount = 0;
    itemOf(changetype<usize>(this), -1);
    return itemCount;
  }
}

// The text of the last parseJson that failed (kept alive for jsonError) and its end.
let failedText: ArrayBuffer | null = null;

/** Validates UTF-8 JSON bytes (e.g. RootContext.pluginConfiguration()) as one value with
 * optional surrounding spaces, nesting up to 64 deep; strings must be valid UTF-8. Returns the
 * root value, or null if the bytes are not valid JSON (jsonError() then says why and where).
 * The bytes are not copied: do not change them afterwards. */
export function parseJson(bytes: ArrayBuffer): JsonValue | null {
  const end = jsonTextEnd(bytes);
  if (end == 0) return null;
  const base = changetype<usize>(bytes);
  return changetype<JsonValue>(newValue(base, skipSpace(base, base + <usize>bytes.byteLength), end));
}

/**
 * Validates `bytes` as parseJson does, without making a JsonValue: the address just past the root
 * value, or 0 when the bytes are not JSON (jsonError() then says why and where).
 */
export function jsonTextEnd(bytes: ArrayBuffer): usize {
  const base = changetype<usize>(bytes);
  const end = base + <usize>bytes.byteLength;
  const start = skipSpace(base, end);
  failedDeep = false;
  let valueEnd = skipValue(start, end, 0);
  if (valueEnd != 0) {
    const after = skipSpace(valueEnd, end);
    if (after != end) valueEnd = fail(after);
  }
  if (valueEnd == 0) failedText = bytes;
  return valueEnd;
}

/** parseJson for a string (encoded as UTF-8 first); null if it is not valid JSON. */
export function parseJsonText(text: string): JsonValue | null {
  return parseJson(utf8Bytes(text));
}

/**
 * Why the last parseJson (or parseJsonText) that answered null failed, with the position of the
 * offending byte as `(line:column)`, both from 1, the column counted in characters (code points)
 * of its line: `unexpected character '}' (1:9)`, `unexpected end of JSON (3:1)`,
 * `invalid UTF-8 in a string (1:7)`, `invalid escape in a string (1:2)`,
 * `control character in a string (2:4)`, `nesting deeper than 64 (1:65)`. Empty when no parse
 * has failed yet. Legal anywhere.
 */
export function jsonError(): string {
  const text = failedText;
  if (text === null) return "";
  const base = changetype<usize>(text);
  const end = base + <usize>text.byteLength;
  const at = failedAt;
  const c = byteAt(at, end);
  const word = at >= end ? Word.UnexpectedEnd
    : c >= 0x80 ? Word.InvalidUtf8
    : c == 0x5c ? Word.InvalidEscape
    : c < 0x20 ? Word.ControlCharacter
    : failedDeep ? Word.TooDeep
    : Word.UnexpectedCharacter;
  let out = appendWord(MESSAGE_START, word);
  if (word == Word.UnexpectedCharacter) {
    store<u8>(out, <u8>c);
    store<u8>(out + 1, 0x27);
    out += 2;
  }
  out = appendPosition(out, base, at);
  return utf8Decode(MESSAGE_START, out - MESSAGE_START);
}

/**
 * Appends ` (line:column)` for the byte at address `at` of the UTF-8 text starting at `base` to
 * the message being built at `out`; returns the end. Lines are counted from 1 at each `\n`,
 * columns from 1 in characters (continuation bytes do not count). Shared with the
 * configuration reader so that both tell positions alike.
 */
export function appendPosition(out: usize, base: usize, at: usize): usize {
  let line: u32 = 1;
  let column: u32 = 1;
  for (let p = base; p < at; p++) {
    const b = <u32>load<u8>(p);
    if (b == 0x0a) {
      line++;
      column = 1;
    } else if ((b & 0xc0) != 0x80) column++;
  }
  store<u16>(out, 0x2820); // " ("
  out = appendDecimal(out + 2, line);
  store<u8>(out, 0x3a);
  out = appendDecimal(out + 1, column);
  store<u8>(out, 0x29);
  return out + 1;
}
