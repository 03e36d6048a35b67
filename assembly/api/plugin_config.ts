import { appendBytes, appendDecimal, appendText, appendWord, MESSAGE_START, Word } from "../runtime/abort";
import { appendPosition, jsonError, jsonTextEnd, nextEntry, numberAt, plainStringEnd, skipSpace, skipValue, stringEnd } from "./json";
import { asciiEqualsUnits, jsonTextEquals, stringByteLength, utf8Bytes, utf8Decode, widenAscii } from "../runtime/utf8";

// Typed plugin configuration: the reading half. A class marked `@pluginConfig` gets a generated
// method `__readConfig<R>(reader: R, at: usize): bool` from the SDK's build transform
// (transform/plugin-config.mjs); parseConfig<T> hands it the root value's address. The generated
// code calls the ConfigReader below for every check, so what a field accepts and how a failure is
// told live here, in one place, and the generated code stays a list of calls.
//
// One pass: the reader validates the JSON as it reads it, instead of after a separate pass over
// the whole text (which cost as much as the reading: bench shape f7_json_config). Every key and
// scalar is validated where it is measured (skipKey, end), every separator and closing byte
// where it is stepped over (valueAfter, after, close), the root's end and the spaces after it by
// parseConfig. A syntax failure ends the text where it stands (breakOff sets its end to 0): every
// byte then reads as 0, so each later step finds no key, no value and no separator, and the
// generated code runs out without reading anything.
// Failures are then told exactly as a validate-first reader tells them: before any message about
// a value, the whole text is validated (textIsJson), so a text that is not JSON is reported as
// such wherever its first fault is, and a message's path is walked in valid text.
//
// Nesting: a value read by a nested class's reader was measured (end) first, which refuses
// nesting deeper than 64 inside it, so the readers recurse at most 65 deep. Only a text nested
// past 64 levels in all, and each value within them, is read where a validate-first reader
// refused it.
//
// A failure is told as `<path>: <what> (<line>:<column>)`, the path from the root in JavaScript
// notation (`rules[2].name`, `headers["x-id"]`), the position that of the offending value (of the
// object, for a missing field; of the key, for an unknown one), as jsonError tells positions.

// The kinds, as the generated code passes them to ConfigReader.expect.
// @ts-ignore: decorator
@inline export const CONFIG_NULL: i32 = 0;
// @ts-ignore: decorator
@inline export const CONFIG_BOOL: i32 = 1;
// @ts-ignore: decorator
@inline export const CONFIG_NUMBER: i32 = 2;
// @ts-ignore: decorator
@inline export const CONFIG_STRING: i32 = 3;
// @ts-ignore: decorator
@inline export const CONFIG_ARRAY: i32 = 4;
// @ts-ignore: decorator
@inline export const CONFIG_OBJECT: i32 = 5;

// The text being read: its first byte and its end (addresses), and the root value's address.
let textBase: usize = 0;
let textEnd: usize = 0;
let rootAt: usize = 0;
let lastError: string = "";
// The bytes being read, for textIsJson (null for no configuration, read as `{}`).
let textBytes: ArrayBuffer | null = null;
// Whether the whole text has been validated (textIsJson), and the answer.
let checked = false;
let isJson = false;
// Where the last container the reader stepped through ended: the byte after its last entry (its
// closing byte, in valid text). parseConfig checks the root's.
let closeAt: usize = 0;
// The end address of the last key skipKey measured when it is plain (see plainStringEnd), else 0.
let plainKeyEnd: usize = 0;

// The kind of the value at `at` from its first byte; -1 past the end of the text, which is where
// every address is once the reading broke off: no check then passes, so no value is read.
function kindAt(at: usize): i32 {
  const c = byteAt(at);
  if (c == 0x22) return CONFIG_STRING;
  if (c == 0x7b) return CONFIG_OBJECT;
  if (c == 0x5b) return CONFIG_ARRAY;
  if (c == 0x6e) return CONFIG_NULL;
  if (c == 0x74 || c == 0x66) return CONFIG_BOOL;
  return c != 0 ? CONFIG_NUMBER : -1;
}

function valueEnd(at: usize): usize {
  return skipValue(at, textEnd, 0);
}

// The byte at `at`, or 0 at or past the end of the text.
function byteAt(at: usize): u32 {
  return at < textEnd ? <u32>load<u8>(at) : 0;
}

// Past the JSON spaces at `at`: skipSpace, with its first test here, where the reader steps
// between tokens (minified text, what Envoy sends, has no space there, and a call costs more
// than the test).
// @ts-ignore: decorator
@inline function spaceEnd(at: usize): usize {
  return at < textEnd && load<u8>(at) > 0x20 ? at : skipSpace(at, textEnd);
}

// Records a syntax failure (see above); answers 0, what measuring methods answer then.
function breakOff(): usize {
  textEnd = 0;
  // keyIs then takes a key end of 0 (no key) as plain, and no name has the length that gives.
  plainKeyEnd = 0;
  return 0;
}

// True if the whole text is valid JSON (validated once per parse, on the way to a failure);
// when it is not, lastError is the JSON failure, which every other failure then defers to.
function textIsJson(): bool {
  if (!checked) {
    checked = true;
    isJson = textBytes === null || jsonTextEnd(textBytes!) != 0;
    if (!isJson) lastError = jsonError();
  }
  return isJson;
}

// True if the JSON key text [at, end) (inside the quotes) is an identifier (ASCII letters,
// digits, _ and $; not starting with a digit).
function isIdentifier(at: usize, end: usize): bool {
  if (at == end) return false;
  for (let p = at; p < end; p++) {
    const c = <u32>load<u8>(p);
    const letter = (c | 0x20) - 0x61 < 26 || c == 0x5f || c == 0x24;
    if (!letter && (p == at || c - 0x30 >= 10)) return false;
  }
  return true;
}

// Appends the key at `key` (the address of its opening quote) as a path step: `.name`, or
// `["x-id"]` as written in the JSON when it is not an identifier.
function appendKey(out: usize, key: usize): usize {
  const end = valueEnd(key);
  const plain = isIdentifier(key + 1, end - 1);
  store<u8>(out, plain ? 0x2e : 0x5b);
  // Plain: the text between the quotes; else the key with its quotes, then ']'.
  out = appendBytes(out + 1, key + <usize>plain, end - key - (<usize>plain << 1));
  if (!plain) store<u8>(out++, 0x5d);
  return out;
}

// Appends the path from the root to the value or key at `target`, walking the text (valid JSON:
// messages are made only after textIsJson): objects and arrays in one loop (an array's item is
// its own "key"), to keep the module small.
function appendPath(out: usize, target: usize): usize {
  let at = rootAt;
  while (at != target) {
    const isObject = load<u8>(at) == 0x7b;
    if (!isObject && load<u8>(at) != 0x5b) break;
    let index: u32 = 0;
    let item = isObject ? reader.firstMember(at) : reader.firstItem(at);
    for (; item != 0; index++) {
      const value = isObject ? reader.valueOf(item) : item;
      const afterValue = valueEnd(value);
      if (target >= item && target < afterValue) break;
      item = reader.after(afterValue);
    }
    if (item == 0) break;
    if (isObject) {
      out = appendKey(out, item);
      if (target == item) break;
      at = reader.valueOf(item);
    } else {
      store<u8>(out, 0x5b);
      out = appendDecimal(out + 1, index);
      store<u8>(out, 0x5d);
      out++;
      at = item;
    }
  }
  return out;
}

// Starts the message about the value or key at `at`: `<path><.field>: ` (the field, for a
// missing one, given as a string; 0 for none). Returns where the problem's text goes.
function startMessage(at: usize, field: usize): usize {
  let out = appendPath(MESSAGE_START, at);
  if (field != 0) {
    store<u8>(out, 0x2e);
    out = appendText(out + 1, field);
  }
  if (out != MESSAGE_START) {
    store<u16>(out, 0x203a); // ": "
    out += 2;
  }
  return out;
}

// Ends the message at `out` with the position of the value at `at`, keeps it; returns false.
function finishMessage(out: usize, at: usize): bool {
  out = appendPosition(out, textBase, at);
  // The path starts with the first step's '.', which the message leaves out.
  const start = MESSAGE_START + <usize>(load<u8>(MESSAGE_START) == 0x2e);
  lastError = utf8Decode(start, out - start);
  return false;
}

// Appends `got <kind>` (the kind of the value at `at`) or, with `asWritten`, `got <its text>`.
function appendGot(out: usize, at: usize, asWritten: bool): usize {
  out = appendWord(out, Word.Got);
  if (!asWritten) return appendWord(out, Word.KindNull + kindAt(at));
  const end = valueEnd(at);
  return appendBytes(out, at, min(end - at, 64));
}

/**
 * The checks and reads the generated `__readConfig` methods call. Every method takes the address
 * of a value (or, for members, of a key) inside the text parseConfig reads. The measuring and
 * stepping methods validate what they pass over and answer 0 when it is not JSON, which breaks
 * the reading off (see the top of this file); the `expect*` and `unknown`/`missing` methods
 * record the failure (the validator's, when the text is not JSON) and answer false; the reads
 * assume the check before them passed.
 *
 * Unmanaged: it has no state, and a managed reader would be spilled to the shadow stack around
 * every call the generated code makes (about 12 bytes a call in the module).
 */
// @ts-ignore: decorator
@unmanaged
export class ConfigReader {
  /** True if the value at `at` is of `kind` (a CONFIG_* constant); else records
   * `expected <kind>, got <kind>`. */
  expect(at: usize, kind: i32): bool {
    if (kindAt(at) == kind) return true;
    if (!textIsJson()) return false;
    let out = appendWord(startMessage(at, 0), Word.Expected);
    out = appendWord(out, Word.KindNull + kind);
    return finishMessage(appendGot(out, at, false), at);
  }

  /** True for `null`. */
  isNull(at: usize): bool {
    return byteAt(at) == 0x6e;
  }

  /** True if the value at `at`, which ends at `end` (see `end`), is a number written as an
   * integer (no fraction, no exponent) in the range of a `bits`-bit integer, signed or not; else
   * records
   * `expected an integer from <min> to <max>, got <text>`. */
  expectInteger(at: usize, end: usize, bits: i32, signed: bool): bool {
    const isNumber = kindAt(at) == CONFIG_NUMBER;
    let p = at;
    // Only a number's first byte is read: after a broken-off reading `at` may be the text's end.
    const negative = isNumber && load<u8>(p) == 0x2d;
    if (negative) p++;
    let magnitude: u64 = 0;
    let fits = isNumber;
    for (; p < end && fits; p++) {
      const digit = <u32>load<u8>(p) - 0x30;
      if (digit >= 10 || magnitude > (u64.MAX_VALUE - digit) / 10) fits = false;
      magnitude = magnitude * 10 + digit;
    }
    const high: u64 = signed ? (<u64>1 << (bits - 1)) - 1 : bits == 64 ? u64.MAX_VALUE : (<u64>1 << bits) - 1;
    // The most negative value is one past high; unsigned types take no negative value but -0.
    if (fits && magnitude <= (negative ? (signed ? high + 1 : 0) : high)) {
      integerValue = negative ? 0 - magnitude : magnitude;
      return true;
    }
    if (!textIsJson()) return false;
    let out = appendWord(startMessage(at, 0), Word.ExpectedInteger);
    if (signed) store<u8>(out++, 0x2d);
    out = appendDecimal64(out, signed ? high + 1 : 0);
    out = appendWord(out, Word.To);
    out = appendDecimal64(out, high);
    return finishMessage(appendGot(out, at, isNumber), at);
  }

  /** The integer expectInteger just accepted (two's complement in 64 bits). */
  integer(): u64 {
    return integerValue;
  }

  /** The number at `at` (checked with expect first). */
  number(at: usize): f64 {
    return numberAt(at, valueEnd(at));
  }

  /** The boolean at `at` (checked with expect first). */
  bool(at: usize): bool {
    return load<u8>(at) == 0x74;
  }

  /** The string at `at` that ends at `end` (see `end`; checked with expect first), escapes
   * decoded. */
  string(at: usize, end: usize): string {
    return utf8Decode(at + 1, end - at - 2, true);
  }

  /** `string`, with a plain string (no escape, nothing from 0x80: see plainStringEnd) widened
   * eight bytes at a time, in about a third of the instructions. About 200 bytes more code: the
   * reader of a module with an array or map field calls it (its configuration is likely to be
   * large), other readers `string` (add_header's size is budgeted). */
  fastString(at: usize, end: usize): string {
    // Measured just before (skipKey or end), as every string the generated reader reads.
    if (end != plainStringEnd) return this.string(at, end);
    const length = end - at - 2;
    const text = __new(length << 1, idof<string>());
    widenAscii(at + 1, length, text);
    return changetype<string>(text);
  }

  /** True if the string at `at` is one of `choices` (joined by "|"); else records
   * `expected one of "a", "b", got "c"`. */
  expectOneOf(at: usize, value: string, choices: string): bool {
    // `choices` is `a|b|c`: compare `value` with each part in place.
    const list = changetype<usize>(choices);
    const listEnd = list + stringByteLength(list);
    const text = changetype<usize>(value);
    const length = stringByteLength(text);
    for (let part = list; part <= listEnd; ) {
      let partEnd = part;
      while (partEnd < listEnd && load<u16>(partEnd) != 0x7c) partEnd += 2;
      if (partEnd - part == length && memory.compare(part, text, length) == 0) return true;
      part = partEnd + 2;
    }
    if (!textIsJson()) return false;
    let out = appendWord(startMessage(at, 0), Word.ExpectedOneOf);
    for (let p = list; p < listEnd; p += 2) {
      const c = load<u16>(p);
      if (c == 0x7c) {
        store<u32>(out, 0x22202c22); // `", "`
        out += 4;
      } else store<u8>(out++, <u8>c);
    }
    store<u8>(out++, 0x22);
    return finishMessage(appendGot(out, at, true), at);
  }

  /** Address of the first key of the object at `at` (its opening byte), or 0 when it is
   * empty. */
  firstMember(at: usize): usize {
    return firstEntry(at, 0x7d);
  }

  /** Address of the key after the member whose key is at `key`, or 0 after the last. */
  nextMember(key: usize): usize {
    return this.nextItem(this.valueOf(key));
  }

  /** Address of the value of the member whose key is at `key`. */
  valueOf(key: usize): usize {
    return nextEntry(valueEnd(key), textEnd);
  }

  /** Address of the value of the member whose key ends at `keyEnd` (see skipKey): past the
   * colon; 0 when there is no colon. */
  valueAfter(keyEnd: usize): usize {
    const colon = skipSpace(keyEnd, textEnd);
    return byteAt(colon) == 0x3a ? skipSpace(colon + 1, textEnd) : breakOff();
  }

  /** `valueAfter`, with the steps over spaces inlined (see fastString for why two). */
  fastValueAfter(keyEnd: usize): usize {
    const colon = spaceEnd(keyEnd);
    return colon < textEnd && load<u8>(colon) == 0x3a ? spaceEnd(colon + 1) : breakOff();
  }

  /** True if the key at `key`, which ends at `keyEnd` (see `end`), is `name` (escapes decoded). */
  keyIs(key: usize, keyEnd: usize, name: string): bool {
    const text = changetype<usize>(name);
    const units = stringByteLength(text);
    // A plain key (skipKey) has as many units as bytes: a length that differs tells most names
    // apart without a walk.
    if (keyEnd == plainKeyEnd && (keyEnd - key - 2) << 1 != units) return false;
    return jsonTextEquals(key + 1, keyEnd - 1, text, text + units);
  }

  /** `keyIs`, with a plain key of the right length compared four bytes at a time without the
   * general walk. About 100 bytes more code: the reader of a module with an array or map field
   * calls it (see fastString), other readers `keyIs`. */
  fastKeyIs(key: usize, keyEnd: usize, name: string): bool {
    if (keyEnd != plainKeyEnd) return this.keyIs(key, keyEnd, name);
    const text = changetype<usize>(name);
    const length = keyEnd - key - 2;
    return length << 1 == stringByteLength(text) && asciiEqualsUnits(key + 1, length, text);
  }

  /** The address just past the key at `key` (a string: checked here), or 0 when there is no
   * valid key there. */
  skipKey(key: usize): usize {
    if (byteAt(key) != 0x22) return breakOff();
    const end = stringEnd(key, textEnd);
    if (end == 0) return breakOff();
    plainKeyEnd = plainStringEnd;
    return end;
  }

  /** The key at `key`, decoded. */
  key(key: usize): string {
    return this.string(key, valueEnd(key));
  }

  /** The address just past the value at `at`, or 0 when there is no valid value there (which
   * ends the reading: see the top of this file). */
  end(at: usize): usize {
    const end = valueEnd(at);
    return end != 0 ? end : breakOff();
  }

  /** `end`, with a string measured without the dispatch on the value's kind (see fastString for
   * why two). */
  fastEnd(at: usize): usize {
    const end = at < textEnd && load<u8>(at) == 0x22 ? stringEnd(at, textEnd) : valueEnd(at);
    return end != 0 ? end : breakOff();
  }

  /** Address of the entry after the value that ends at `end` (an item, or a member's key), or 0
   * after the last. */
  after(end: usize): usize {
    const next = skipSpace(end, textEnd);
    if (byteAt(next) == 0x2c) return skipSpace(next + 1, textEnd);
    closeAt = next;
    return 0;
  }

  /** `after`, with the steps over spaces inlined (see fastString for why two). */
  fastAfter(end: usize): usize {
    const next = spaceEnd(end);
    if (next < textEnd && load<u8>(next) == 0x2c) return spaceEnd(next + 1);
    closeAt = next;
    return 0;
  }

  /** The address just past the array or object whose last entry ends at `last` (or whose
   * opening byte is at `last - 1`, when it is empty): past its closing byte `closing` (`]` or
   * `}`); 0 when that byte is not there. The generated reader finds a container's end this way
   * after reading it, instead of measuring it first. */
  close(last: usize, closing: u32): usize {
    const at = skipSpace(last, textEnd);
    return byteAt(at) == closing ? at + 1 : breakOff();
  }

  /** Address of the first item of the array at `at` (its opening byte), or 0 when it is
   * empty. */
  firstItem(at: usize): usize {
    return firstEntry(at, 0x5d);
  }

  /** Address of the item after the one at `item`, or 0 after the last (the generated reader
   * uses `after(end(item))`, measuring each item once). */
  nextItem(item: usize): usize {
    return this.after(valueEnd(item));
  }

  /** Records `<path>.<key>: unknown field` at the key; answers false. */
  unknown(key: usize): bool {
    if (!textIsJson()) return false;
    return finishMessage(appendWord(startMessage(key, 0), Word.UnknownField), key);
  }

  /** Records `<path>.<name>: required field is missing` at the object; answers false. */
  missing(at: usize, name: string): bool {
    if (!textIsJson()) return false;
    return finishMessage(appendWord(startMessage(at, changetype<usize>(name)), Word.MissingField), at);
  }
}
let integerValue: u64 = 0;

// The first entry of the container whose opening byte is at `at`, or 0 when its next byte is
// `closing` (recorded in closeAt). Anything else there is the entry, which its reading validates.
function firstEntry(at: usize, closing: u32): usize {
  const entry = skipSpace(at + 1, textEnd);
  if (byteAt(entry) != closing) return entry;
  closeAt = entry;
  return 0;
}

function appendDecimal64(out: usize, value: u64): usize {
  if (value >= 10) out = appendDecimal64(out, value / 10);
  store<u8>(out, <u8>(48 + value % 10));
  return out + 1;
}
const reader = new ConfigReader();
// `{}`, what no configuration at all reads as.
const EMPTY_OBJECT = memory.data<u8>([0x7b, 0x7d]);

/**
 * Reads the plugin configuration `bytes` (e.g. RootContext.pluginConfiguration()) into a new
 * instance of the `@pluginConfig` class T (declared as docs/configuration.md says; the SDK's
 * build transform makes its reader, and puts T's JSON Schema into the module). No bytes at all read as `{}` (Envoy passes none when a
 * plugin has no configuration), so a class whose fields are all optional gets its defaults.
 * Returns null when the bytes are not JSON or do not match the declaration; configError() then
 * tells the field path, the problem and the position. Legal anywhere; typically in onConfigure,
 * which returns false after logging the message.
 */
export function parseConfig<T>(bytes: ArrayBuffer): T | null {
  if (bytes.byteLength == 0) {
    textBytes = null;
    textBase = EMPTY_OBJECT;
    textEnd = EMPTY_OBJECT + 2;
  } else {
    textBytes = bytes;
    textBase = changetype<usize>(bytes);
    textEnd = textBase + <usize>bytes.byteLength;
  }
  checked = false;
  closeAt = 0;
  lastError = "";
  rootAt = skipSpace(textBase, textEnd);
  const config = instantiate<T>();
  // @ts-ignore: generated by the SDK's build transform for a class marked @pluginConfig
  const read = config.__readConfig<ConfigReader>(reader, rootAt);
  // The root object's reading ends at its closing byte (closeAt); only spaces may follow.
  const accepted = read && byteAt(closeAt) == 0x7d && skipSpace(closeAt + 1, textEnd) == textEnd;
  // A failure the reader told (after textIsJson, which answered true), or one in the syntax,
  // which textIsJson tells now. (A valid text fails only by a reader's message: the one pass
  // refuses exactly what jsonTextEnd refuses, which tests/sdk/plugin-config-one-pass.test.ts
  // checks over many broken texts.)
  if (!accepted) textIsJson();
  textBytes = null;
  return accepted ? config : null;
}

/** parseConfig for a string (encoded as UTF-8 first). */
export function parseConfigText<T>(text: string): T | null {
  return parseConfig<T>(utf8Bytes(text));
}

/**
 * Why the last parseConfig failed: `requiredKeys[0]: expected a string, got a number (1:18)`,
 * `name: required field is missing (1:1)`, `colour: unknown field (1:2)`, or jsonError()'s
 * message when the text is not JSON. Empty after a parseConfig that succeeded.
 */
export function configError(): string {
  return lastError;
}
