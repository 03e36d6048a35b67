// The SDK's own warnings about how a plugin is deployed (pass_through.ts, stream_kind_mismatch.ts):
// one line that starts with `plugin "<name>"`, built in a static buffer without allocating.
// The fixed texts are ASCII words written with `put`, not string literals: a literal would stay
// in the module's data even when the build transform removed the code that logs it.
import { LogLevel, WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_DATA, OUT_SIZE, dropResult } from "../runtime/memory";

// The plugin's name is copied as the host gives it (UTF-8) and cut so that the rest of the line
// fits; the last KEY_ROOM bytes hold the property name being read.
// @ts-ignore: decorator
@inline const LINE_CAPACITY: usize = 512;
// @ts-ignore: decorator
@inline const KEY_ROOM: usize = 16;
const LINE: usize = memory.data(<i32>LINE_CAPACITY);
// @ts-ignore: decorator
@inline const KEY: usize = LINE + LINE_CAPACITY - KEY_ROOM;
// A put stores a whole word whatever its length: the line keeps one word of room past its end.
// @ts-ignore: decorator
@inline const WORD_SLACK: usize = 8;

/** @internal Stores the little-endian ASCII `word` at `at` and returns the address after its
 * first `length` bytes (a word's bytes past `length` are zeros that what follows overwrites). */
// @ts-ignore: decorator
@inline export function put(at: usize, word: u64, length: usize): usize {
  store<u64>(at, word);
  return at + length;
}

/**
 * @internal Starts the warning line: `plugin "` and the plugin's name (its `plugin_name`, else
 * its `plugin_root_id`), cut to leave `suffixLength` bytes for the rest. Returns where the rest
 * goes. Legal in any stream callback (the host answers the current plugin's properties).
 */
export function startPluginWarning(suffixLength: usize): usize {
  const at = put(LINE, 0x22206e6967756c70, 8); // 'plugin "'
  const nameEnd = KEY - suffixLength - WORD_SLACK;
  const named = appendProperty(at, put(put(KEY, 0x6e5f6e6967756c70, 8), 0x656d61, 3), nameEnd); // "plugin_name"
  return named != at ? named : appendProperty(at, put(put(KEY, 0x725f6e6967756c70, 8), 0x64695f746f6f, 6), nameEnd); // "plugin_root_id"
}

/** @internal Logs the line started by startPluginWarning, which now ends at `end`, at warn level. */
export function logPluginWarning(end: usize): void {
  host.log(LogLevel.Warn, LINE, end - LINE);
}

// Appends the value of the top-level property whose name ends at `keyEnd` (it starts at KEY),
// cut at `nameEnd`; returns the new end (`at` when the host has no value).
function appendProperty(at: usize, keyEnd: usize, nameEnd: usize): usize {
  if (host.getProperty(KEY, keyEnd - KEY) == WasmResult.Ok) {
    const size = min(<usize>load<u32>(OUT_SIZE), nameEnd - at);
    memory.copy(at, <usize>load<u32>(OUT_DATA), size);
    at += size;
  }
  dropResult();
  return at;
}
