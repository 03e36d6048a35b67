// Streams of a plugin whose root makes no stream context: a root-only plugin deployed as an HTTP
// or network filter, which is what an Istio WasmPlugin always is. The Rust and Go SDKs panic in
// proxy_on_context_create there (proxy-wasm-rust-sdk src/dispatcher.rs, proxy-wasm-go-sdk
// internal/abi_callback_lifecycle.go), and Envoy then fails every stream of the VM. This SDK
// lets such streams pass through untouched and says so once per plugin.
//
// Only ids are kept (no object per stream). The three functions the registry calls are the
// only ways in: the SDK's build transform (transform/pass-through.mjs) replaces their bodies
// when every root of the module always makes a stream context, and everything below goes with
// them.
// For the same reason the fixed texts are ASCII words in the code, not string literals: a
// literal would stay in the module's data even when its code is gone.
import { LogLevel, WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_DATA, OUT_SIZE, dropResult } from "../runtime/memory";
import { idSetAdd, idSetHas, idSetRemove } from "../runtime/id_set";
import { log } from "./log";

// The streams passing through, and the root contexts (by context id) that have warned.
const STREAMS: usize = memory.data(12, 4);
const WARNED_ROOTS: usize = memory.data(12, 4);

/**
 * @internal proxy_on_context_create of a stream that the root context `rootContextId` made no
 * context for (its createHttpContext and createTcpContext both gave null): from now on the
 * stream's callbacks continue (see passesThrough) until endPassThrough. The first such stream
 * of each root logs, at warn level,
 * `plugin "<plugin_name>" makes no stream context; its streams pass through untouched`
 * (the plugin's root id when it has no name).
 */
export function passThrough(contextId: u32, rootContextId: u32): void {
  idSetAdd(STREAMS, contextId);
  if (idSetHas(WARNED_ROOTS, rootContextId)) return;
  idSetAdd(WARNED_ROOTS, rootContextId);
  if (log.enabled(LogLevel.Warn)) warnPassThrough();
}

/** @internal True if the stream `contextId` passes through (its callbacks continue). */
export function passesThrough(contextId: u32): bool {
  return idSetHas(STREAMS, contextId);
}

/** @internal proxy_on_delete of a context the registry does not hold: forgets it if it passed
 * through. */
export function endPassThrough(contextId: u32): void {
  idSetRemove(STREAMS, contextId);
}

// The warning line is built here; the plugin's name is copied as the host gives it (UTF-8) and
// cut to fit, and the last KEY_ROOM bytes hold the property name being read.
// @ts-ignore: decorator
@inline const LINE_CAPACITY: usize = 512;
// @ts-ignore: decorator
@inline const KEY_ROOM: usize = 16;
const LINE: usize = memory.data(<i32>LINE_CAPACITY);
// @ts-ignore: decorator
@inline const KEY: usize = LINE + LINE_CAPACITY - KEY_ROOM;
// @ts-ignore: decorator
@inline const SUFFIX_LENGTH: usize = 61;
// @ts-ignore: decorator
@inline const NAME_END: usize = KEY - SUFFIX_LENGTH - 8;

// Stores the little-endian ASCII `word` at `at` and returns the address after its first
// `length` bytes (a word's bytes past `length` are zeros that what follows overwrites).
// @ts-ignore: decorator
@inline function put(at: usize, word: u64, length: usize): usize {
  store<u64>(at, word);
  return at + length;
}

function warnPassThrough(): void {
  let at = put(LINE, 0x22206e6967756c70, 8); // 'plugin "'
  const named = appendProperty(at, put(put(KEY, 0x6e5f6e6967756c70, 8), 0x656d61, 3)); // "plugin_name"
  at = named != at ? named : appendProperty(at, put(put(KEY, 0x725f6e6967756c70, 8), 0x64695f746f6f, 6)); // "plugin_root_id"
  at = put(at, 0x2073656b616d2022, 8); // '" makes '
  at = put(at, 0x6165727473206f6e, 8); // "no strea"
  at = put(at, 0x7865746e6f63206d, 8); // "m contex"
  at = put(at, 0x7320737469203b74, 8); // "t; its s"
  at = put(at, 0x7020736d61657274, 8); // "treams p"
  at = put(at, 0x6f72687420737361, 8); // "ass thro"
  at = put(at, 0x6f746e7520686775, 8); // "ugh unto"
  at = put(at, 0x6465686375, 5); // "uched"
  host.log(LogLevel.Warn, LINE, at - LINE);
}

// Appends the value of the top-level property whose name ends at `keyEnd` (it starts at KEY),
// cut at NAME_END; returns the new end (`at` when the host has no value).
function appendProperty(at: usize, keyEnd: usize): usize {
  if (host.getProperty(KEY, keyEnd - KEY) == WasmResult.Ok) {
    const size = min(<usize>load<u32>(OUT_SIZE), NAME_END - at);
    memory.copy(at, <usize>load<u32>(OUT_DATA), size);
    at += size;
  }
  dropResult();
  return at;
}
