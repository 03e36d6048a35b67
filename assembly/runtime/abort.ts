// The module-wide abort handler. Release builds route every AssemblyScript abort (failed
// bounds check, `throw`, assert) here through `--use abort=...sdkAbort`, because Envoy
// provides no `env.abort` import.
import { proxy_log } from "../abi/imports";
import { stringByteLength } from "./utf8";

// The line is written into a static block, not a heap block or GC strings: an abort can come
// from a full heap or from inside the allocator, where allocating is unsafe (and the block
// costs nothing in the module: static zeros are not stored). Text past its end is cut.
// Characters above 0x7F become '?': messages and file names are ASCII, and this avoids
// linking a UTF-8 encoder. Strings travel as addresses (0 = null): no shadow-stack code in
// the abort path.
// @ts-ignore: decorator
@inline const LINE_CAPACITY: usize = 1024;
const LINE: usize = memory.data(<i32>LINE_CAPACITY);
/** The static block messages are built in (also by the JSON and configuration readers, whose
 * messages are then decoded into a string at once: a text built this way links no string
 * concatenation or number formatting). Text past TEXT_END is cut. */
export const MESSAGE_START = LINE;
// Where text stops: room is left for " at " and ":<line>:<column>" (two u32 in decimal).
// @ts-ignore: decorator
@inline export const TEXT_END: usize = LINE + LINE_CAPACITY - 32;

/** Appends the ASCII of the string at address `text` (0: nothing) at `at`; returns the end. */
export function appendText(at: usize, text: usize): usize {
  if (text != 0) {
    const end = text + stringByteLength(text);
    for (; text < end && at < TEXT_END; text += 2) {
      const c = load<u16>(text);
      store<u8>(at++, c < 0x80 ? <u8>c : 0x3f);
    }
  }
  return at;
}

/** Appends `value` in decimal at `at`; returns the end. */
export function appendDecimal(at: usize, value: u32): usize {
  if (value >= 10) at = appendDecimal(at, value / 10);
  store<u8>(at, <u8>(48 + value % 10));
  return at + 1;
}

/**
 * Logs `abort: <message> at <file>:<line>:<column>` at critical level (5), then traps; when
 * line and column are both 0 the position is left out (`abort: <message> at <file>`), and
 * without a file name either so is the rest (`abort: <message>`).
 * Message and file name together are cut at about 1,000 characters. Never returns. Legal
 * anywhere, including module start and the allocator, because it only calls `proxy_log`.
 */
export function sdkAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  abortWith(changetype<usize>(message), changetype<usize>(fileName), line, column);
}

// sdkAbort with the strings as addresses (0 = null); `fromSdk` puts "proxy-wasm-as: " before
// the message (see fail).
function abortWith(messageText: usize, fileText: usize, line: u32, column: u32, fromSdk: bool = false): void {
  // The fixed words are stored as little-endian ASCII constants, not string literals: each
  // literal costs its UTF-16 text, an object header and a data segment. A constant's bytes
  // past its word are overwritten by what follows.
  store<u64>(LINE, 0x203a74726f6261); // "abort: "
  let at = LINE + 7;
  if (fromSdk) {
    store<u64>(at, 0x61772d79786f7270); // "proxy-wa"
    store<u64>(at + 8, 0x203a73612d6d73); // "sm-as: "
    at += 15;
  }
  at = appendText(at, messageText);
  if ((fileText | line | column) != 0) {
    store<u32>(at, 0x20746120); // " at "
    at = appendText(at + 4, fileText);
  }
  if ((line | column) != 0) {
    store<u8>(at++, 0x3a);
    at = appendDecimal(at, line);
    store<u8>(at++, 0x3a);
    at = appendDecimal(at, column);
  }
  proxy_log(5, LINE, at - LINE);
  unreachable();
}

/**
 * Stops the module for a programming error the SDK detects (a broken host contract or a
 * misuse of the API): logs `abort: proxy-wasm-as: <message>` at critical level and traps.
 * Never returns. Cheaper than `throw new Error(...)`, which costs an object and a file name
 * per call site; the package name is added here rather than written in each message because
 * every string literal is stored as UTF-16.
 */
export function fail(message: string): void {
  abortWith(changetype<usize>(message), 0, 0, 0, true);
}

/** Appends `length` bytes from `from` at `at` (cut at TEXT_END); returns the end. */
export function appendBytes(at: usize, from: usize, length: usize): usize {
  if (at >= TEXT_END) return at;
  const room = TEXT_END - at;
  if (length > room) length = room;
  memory.copy(at, from, length);
  return at + length;
}

// The fixed words of the JSON reader's and the configuration reader's messages, in one literal:
// every string literal costs an object header and a data segment besides its UTF-16 text.
// appendWord(out, index) appends the index-th word (words are separated by '|').
const WORDS = "unexpected end of JSON|invalid UTF-8 in a string|invalid escape in a string|control character in a string|nesting deeper than 64|unexpected character '|null|a boolean|a number|a string|an array|an object|expected |, got |unknown field|required field is missing|expected one of \"|expected an integer from | to ";

/** Word numbers in WORDS. */
export const enum Word {
  UnexpectedEnd = 0,
  InvalidUtf8 = 1,
  InvalidEscape = 2,
  ControlCharacter = 3,
  TooDeep = 4,
  UnexpectedCharacter = 5,
  /** The kind names follow in the order of the JSON kinds: null, boolean, number, string, array, object. */
  KindNull = 6,
  Expected = 12,
  Got = 13,
  UnknownField = 14,
  MissingField = 15,
  ExpectedOneOf = 16,
  ExpectedInteger = 17,
  To = 18,
}

/** Appends word `index` of the message words (Word) at `out`; returns the end. */
export function appendWord(out: usize, index: i32): usize {
  let at = changetype<usize>(WORDS);
  const end = at + stringByteLength(at);
  for (; index > 0; at += 2) if (load<u16>(at) == 0x7c) index--;
  for (; at < end && out < TEXT_END; at += 2) {
    const c = load<u16>(at);
    if (c == 0x7c) break;
    store<u8>(out++, <u8>c);
  }
  return out;
}
