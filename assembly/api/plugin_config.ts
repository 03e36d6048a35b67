import { jsonError, jsonPosition, nextEntry, numberAt, parseJson, skipSpace, skipValue } from "./json";
import { jsonTextEquals, stringByteLength, utf8Bytes, utf8Decode } from "../runtime/utf8";

// Typed plugin configuration: the reading half. A class marked `@pluginConfig` gets a generated
// method `__readConfig<R>(reader: R, at: usize): bool` from the SDK's build transform
// (transform/plugin-config.mjs); parseConfig<T> validates the JSON text once (parseJson) and hands
// the root value's address to it. The generated code calls the ConfigReader below for every
// check, so what a field accepts and how a failure is told live here, in one place, and the
// generated code stays a list of calls.
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

function kindAt(at: usize): i32 {
  const c = <u32>load<u8>(at);
  if (c == 0x22) return CONFIG_STRING;
  if (c == 0x7b) return CONFIG_OBJECT;
  if (c == 0x5b) return CONFIG_ARRAY;
  if (c == 0x6e) return CONFIG_NULL;
  if (c == 0x74 || c == 0x66) return CONFIG_BOOL;
  return CONFIG_NUMBER;
}

function kindName(kind: i32): string {
  if (kind == CONFIG_STRING) return "a string";
  if (kind == CONFIG_OBJECT) return "an object";
  if (kind == CONFIG_ARRAY) return "an array";
  if (kind == CONFIG_NULL) return "null";
  if (kind == CONFIG_BOOL) return "a boolean";
  return "a number";
}

function valueEnd(at: usize): usize {
  return skipValue(at, textEnd, 0);
}

function isIdentifier(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = <u32>name.charCodeAt(i);
    const letter = (c | 0x20) - 0x61 < 26 || c == 0x5f || c == 0x24;
    if (!letter && (i == 0 || c - 0x30 >= 10)) return false;
  }
  return true;
}

// The key at `key` (an address of its opening quote) as a path step.
function keyStep(key: usize): string {
  const name = utf8Decode(key + 1, valueEnd(key) - key - 2, true);
  return isIdentifier(name) ? "." + name : "[" + JSON_QUOTE + name + JSON_QUOTE + "]";
}
const JSON_QUOTE = '"';

// The path from the root to the value or key at `target`, walking the validated text.
function pathTo(target: usize): string {
  let path = "";
  let at = rootAt;
  while (at != target) {
    const c = <u32>load<u8>(at);
    const end = valueEnd(at);
    let next: usize = 0;
    if (c == 0x7b) {
      for (let key = nextEntry(at, end); key < end - 1; ) {
        const keyEnd = valueEnd(key);
        const value = nextEntry(keyEnd, end);
        const afterValue = valueEnd(value);
        if (target == key) return path + keyStep(key);
        if (target >= value && target < afterValue) {
          path += keyStep(key);
          next = value;
          break;
        }
        key = nextEntry(afterValue, end);
      }
    } else if (c == 0x5b) {
      let index = 0;
      for (let item = nextEntry(at, end); item < end - 1; index++) {
        const afterItem = valueEnd(item);
        if (target >= item && target < afterItem) {
          path += "[" + index.toString() + "]";
          next = item;
          break;
        }
        item = nextEntry(afterItem, end);
      }
    }
    if (next == 0) break;
    at = next;
  }
  return path;
}

// Records `<path><suffix>: <what> (<line>:<column>)` for the value at `at`; returns false.
function failAt(at: usize, suffix: string, what: string): bool {
  let path = pathTo(at) + suffix;
  if (path.startsWith(".")) path = path.substring(1);
  lastError = (path.length > 0 ? path + ": " : "") + what + " " + jsonPosition(textBase, at);
  return false;
}

// The JSON text at `at` as it is written, for messages (cut at 40 characters).
function shown(at: usize): string {
  const text = utf8Decode(at, valueEnd(at) - at);
  return text.length > 40 ? text.substring(0, 40) + "..." : text;
}

/**
 * The checks and reads the generated `__readConfig` methods call. Every method takes the address
 * of a value (or, for members, of a key) inside the text parseConfig validated; the `expect*` and
 * `unknown`/`missing` methods record the failure and answer false, the reads assume the check
 * before them passed.
 */
export class ConfigReader {
  /** True if the value at `at` is of `kind` (a CONFIG_* constant); else records
   * `expected <kind>, got <kind>`. */
  expect(at: usize, kind: i32): bool {
    const actual = kindAt(at);
    return actual == kind || failAt(at, "", "expected " + kindName(kind) + ", got " + kindName(actual));
  }

  /** True for `null`. */
  isNull(at: usize): bool {
    return load<u8>(at) == 0x6e;
  }

  /** True if the value at `at` is a number written as an integer (no fraction, no exponent) in
   * the range of a `bits`-bit integer, signed or not; else records
   * `expected an integer from <min> to <max>, got <text>`. */
  expectInteger(at: usize, bits: i32, signed: bool): bool {
    const kind = kindAt(at);
    if (kind != CONFIG_NUMBER) return this.integerFailure(at, bits, signed, kindName(kind));
    const end = valueEnd(at);
    let p = at;
    const negative = load<u8>(p) == 0x2d;
    if (negative) p++;
    let magnitude: u64 = 0;
    let overflow = false;
    for (; p < end; p++) {
      const digit = <u32>load<u8>(p) - 0x30;
      if (digit >= 10) return this.integerFailure(at, bits, signed, shown(at));
      if (magnitude > (u64.MAX_VALUE - digit) / 10) overflow = true;
      magnitude = magnitude * 10 + digit;
    }
    const limit: u64 = signed ? (<u64>1 << (bits - 1)) - (negative ? 0 : 1) : negative ? 0 : bits == 64 ? u64.MAX_VALUE : (<u64>1 << bits) - 1;
    if (overflow || magnitude > limit) return this.integerFailure(at, bits, signed, shown(at));
    integerValue = negative ? 0 - magnitude : magnitude;
    return true;
  }

  private integerFailure(at: usize, bits: i32, signed: bool, got: string): bool {
    const low = signed ? (<i64>-1 << (bits - 1)).toString() : "0";
    const high = signed ? ((<u64>1 << (bits - 1)) - 1).toString() : bits == 64 ? u64.MAX_VALUE.toString() : ((<u64>1 << bits) - 1).toString();
    return failAt(at, "", "expected an integer from " + low + " to " + high + ", got " + got);
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

  /** The string at `at` (checked with expect first), escapes decoded. */
  string(at: usize): string {
    return utf8Decode(at + 1, valueEnd(at) - at - 2, true);
  }

  /** True if the string at `at` is one of `choices` (joined by "|"); else records
   * `expected one of "a", "b", got "c"`. */
  expectOneOf(at: usize, value: string, choices: string): bool {
    const list = choices.split("|");
    if (list.includes(value)) return true;
    return failAt(at, "", "expected one of " + JSON_QUOTE + list.join(JSON_QUOTE + ", " + JSON_QUOTE) + JSON_QUOTE + ", got " + shown(at));
  }

  /** Address of the first key of the object at `at`, or 0 when it is empty. */
  firstMember(at: usize): usize {
    const end = valueEnd(at);
    const key = nextEntry(at, end);
    return key < end - 1 ? key : 0;
  }

  /** Address of the key after the member whose key is at `key`, or 0 after the last. */
  nextMember(key: usize): usize {
    const after = skipSpace(valueEnd(this.valueOf(key)), textEnd);
    return load<u8>(after) == 0x2c ? skipSpace(after + 1, textEnd) : 0;
  }

  /** Address of the value of the member whose key is at `key`. */
  valueOf(key: usize): usize {
    return nextEntry(valueEnd(key), textEnd);
  }

  /** True if the key at `key` is `name` (escapes decoded). */
  keyIs(key: usize, name: string): bool {
    const text = changetype<usize>(name);
    return jsonTextEquals(key + 1, valueEnd(key) - 1, text, text + stringByteLength(text));
  }

  /** The key at `key`, decoded. */
  key(key: usize): string {
    return this.string(key);
  }

  /** Address of the first item of the array at `at`, or 0 when it is empty. */
  firstItem(at: usize): usize {
    return this.firstMember(at);
  }

  /** Address of the item after the one at `item`, or 0 after the last. */
  nextItem(item: usize): usize {
    const after = skipSpace(valueEnd(item), textEnd);
    return load<u8>(after) == 0x2c ? skipSpace(after + 1, textEnd) : 0;
  }

  /** Records `<path>.<key>: unknown field` at the key; answers false. */
  unknown(key: usize): bool {
    return failAt(key, "", "unknown field");
  }

  /** Records `<path>.<name>: required field is missing` at the object; answers false. */
  missing(at: usize, name: string): bool {
    return failAt(at, isIdentifier(name) ? "." + name : "[" + JSON_QUOTE + name + JSON_QUOTE + "]", "required field is missing");
  }
}
let integerValue: u64 = 0;
const reader = new ConfigReader();
const EMPTY_OBJECT = "{}";

/**
 * Reads the plugin configuration `bytes` (e.g. RootContext.pluginConfiguration()) into a new
 * instance of the `@pluginConfig` class T. No bytes at all read as `{}` (Envoy passes none when a
 * plugin has no configuration), so a class whose fields are all optional gets its defaults.
 * Returns null when the bytes are not JSON or do not match the declaration; configError() then
 * tells the field path, the problem and the position. Legal anywhere; typically in onConfigure,
 * which returns false after logging the message.
 */
export function parseConfig<T>(bytes: ArrayBuffer): T | null {
  const text = bytes.byteLength == 0 ? utf8Bytes(EMPTY_OBJECT) : bytes;
  const root = parseJson(text);
  if (root === null) {
    lastError = jsonError();
    return null;
  }
  textBase = changetype<usize>(text);
  textEnd = textBase + <usize>text.byteLength;
  rootAt = skipSpace(textBase, textEnd);
  const config = instantiate<T>();
  // @ts-ignore: generated by the SDK's build transform for a class marked @pluginConfig
  if (!config.__readConfig<ConfigReader>(reader, rootAt)) return null;
  lastError = "";
  return config;
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
