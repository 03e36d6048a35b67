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
  abortWith(changetype<usize>(message), changetype<usize>(fileName), line, column, -1);
}

// sdkAbort with the strings as addresses (0 = null); a `word` (not -1) is the message instead,
// after "proxy-wasm-as: " (see fail).
function abortWith(messageText: usize, fileText: usize, line: u32, column: u32, word: i32): void {
  // The fixed words are stored as little-endian ASCII constants, not string literals: each
  // literal costs its UTF-16 text, an object header and a data segment. A constant's bytes
  // past its word are overwritten by what follows.
  store<u64>(LINE, 0x203a74726f6261); // "abort: "
  let at = LINE + 7;
  if (word >= 0) {
    store<u64>(at, 0x61772d79786f7270); // "proxy-wa"
    store<u64>(at + 8, 0x203a73612d6d73); // "sm-as: "
    at = appendWord(at + 15, word);
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
 * misuse of the API) or for memory it cannot have: logs `abort: proxy-wasm-as: <message>` at
 * critical level and traps, the message being word `word` of WORDS (ASCII: a string literal
 * would cost its text twice over, an object header and a data segment). Never returns. Legal
 * anywhere, including inside the allocator.
 */
export function fail(word: Word): void {
  abortWith(0, 0, 0, 0, word);
}

/** Appends `length` bytes from `from` at `at` (cut at TEXT_END); returns the end. */
export function appendBytes(at: usize, from: usize, length: usize): usize {
  if (at >= TEXT_END) return at;
  const room = TEXT_END - at;
  if (length > room) length = room;
  memory.copy(at, from, length);
  return at + length;
}

// The fixed words of the JSON reader's and the configuration reader's messages, as ASCII bytes
// (each ends with 0): string literals would cost their text twice over (UTF-16) and an object
// header each. Every message is checked word for word by the specs and tests.
const WORDS = memory.data<u8>([
  // 0: unexpected end of JSON
  0x75, 0x6e, 0x65, 0x78, 0x70, 0x65, 0x63, 0x74, 0x65, 0x64, 0x20, 0x65, 0x6e, 0x64, 0x20, 0x6f, 0x66, 0x20, 0x4a, 0x53, 0x4f, 0x4e, 0,
  // 1: invalid UTF-8 in a string
  0x69, 0x6e, 0x76, 0x61, 0x6c, 0x69, 0x64, 0x20, 0x55, 0x54, 0x46, 0x2d, 0x38, 0x20, 0x69, 0x6e, 0x20, 0x61, 0x20, 0x73, 0x74, 0x72, 0x69, 0x6e, 0x67, 0,
  // 2: invalid escape in a string
  0x69, 0x6e, 0x76, 0x61, 0x6c, 0x69, 0x64, 0x20, 0x65, 0x73, 0x63, 0x61, 0x70, 0x65, 0x20, 0x69, 0x6e, 0x20, 0x61, 0x20, 0x73, 0x74, 0x72, 0x69, 0x6e, 0x67, 0,
  // 3: control character in a string
  0x63, 0x6f, 0x6e, 0x74, 0x72, 0x6f, 0x6c, 0x20, 0x63, 0x68, 0x61, 0x72, 0x61, 0x63, 0x74, 0x65, 0x72, 0x20, 0x69, 0x6e, 0x20, 0x61, 0x20, 0x73, 0x74, 0x72, 0x69, 0x6e, 0x67, 0,
  // 4: nesting deeper than 64
  0x6e, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67, 0x20, 0x64, 0x65, 0x65, 0x70, 0x65, 0x72, 0x20, 0x74, 0x68, 0x61, 0x6e, 0x20, 0x36, 0x34, 0,
  // 5: unexpected character '
  0x75, 0x6e, 0x65, 0x78, 0x70, 0x65, 0x63, 0x74, 0x65, 0x64, 0x20, 0x63, 0x68, 0x61, 0x72, 0x61, 0x63, 0x74, 0x65, 0x72, 0x20, 0x27, 0,
  // 6: null
  0x6e, 0x75, 0x6c, 0x6c, 0,
  // 7: a boolean
  0x61, 0x20, 0x62, 0x6f, 0x6f, 0x6c, 0x65, 0x61, 0x6e, 0,
  // 8: a number
  0x61, 0x20, 0x6e, 0x75, 0x6d, 0x62, 0x65, 0x72, 0,
  // 9: a string
  0x61, 0x20, 0x73, 0x74, 0x72, 0x69, 0x6e, 0x67, 0,
  // 10: an array
  0x61, 0x6e, 0x20, 0x61, 0x72, 0x72, 0x61, 0x79, 0,
  // 11: an object
  0x61, 0x6e, 0x20, 0x6f, 0x62, 0x6a, 0x65, 0x63, 0x74, 0,
  // 12: expected 
  0x65, 0x78, 0x70, 0x65, 0x63, 0x74, 0x65, 0x64, 0x20, 0,
  // 13: , got 
  0x2c, 0x20, 0x67, 0x6f, 0x74, 0x20, 0,
  // 14: unknown field
  0x75, 0x6e, 0x6b, 0x6e, 0x6f, 0x77, 0x6e, 0x20, 0x66, 0x69, 0x65, 0x6c, 0x64, 0,
  // 15: required field is missing
  0x72, 0x65, 0x71, 0x75, 0x69, 0x72, 0x65, 0x64, 0x20, 0x66, 0x69, 0x65, 0x6c, 0x64, 0x20, 0x69, 0x73, 0x20, 0x6d, 0x69, 0x73, 0x73, 0x69, 0x6e, 0x67, 0,
  // 16: expected one of "
  0x65, 0x78, 0x70, 0x65, 0x63, 0x74, 0x65, 0x64, 0x20, 0x6f, 0x6e, 0x65, 0x20, 0x6f, 0x66, 0x20, 0x22, 0,
  // 17: expected an integer from 
  0x65, 0x78, 0x70, 0x65, 0x63, 0x74, 0x65, 0x64, 0x20, 0x61, 0x6e, 0x20, 0x69, 0x6e, 0x74, 0x65, 0x67, 0x65, 0x72, 0x20, 0x66, 0x72, 0x6f, 0x6d, 0x20, 0,
  // 18:  to 
  0x20, 0x74, 0x6f, 0x20, 0,
  // 19: no root registered
  0x6e, 0x6f, 0x20, 0x72, 0x6f, 0x6f, 0x74, 0x20, 0x72, 0x65, 0x67, 0x69, 0x73, 0x74, 0x65, 0x72, 0x65, 0x64, 0,
  // 20: bad context id or kind
  0x62, 0x61, 0x64, 0x20, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x78, 0x74, 0x20, 0x69, 0x64, 0x20, 0x6f, 0x72, 0x20, 0x6b, 0x69, 0x6e, 0x64, 0,
  // 21: allocation too large
  0x61, 0x6c, 0x6c, 0x6f, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x20, 0x74, 0x6f, 0x6f, 0x20, 0x6c, 0x61, 0x72, 0x67, 0x65, 0,
]);

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
  NoRoot = 19,
  BadContext = 20,
  AllocationTooLarge = 21,
}

/** Appends word `index` of the message words (Word) at `out`; returns the end. */
export function appendWord(out: usize, index: i32): usize {
  let at = WORDS;
  for (; index > 0; at++) if (load<u8>(at) == 0) index--;
  for (let c = load<u8>(at); c != 0 && out < TEXT_END; c = load<u8>(++at)) store<u8>(out++, c);
  return out;
}
