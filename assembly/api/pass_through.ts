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
// The warning's text is written as words (plugin_warning.ts) for the same reason.
import { LogLevel } from "../abi/enums";
import { idSetAdd, idSetHas, idSetRemove } from "../runtime/id_set";
import { log } from "./log";
import { logPluginWarning, put, startPluginWarning } from "./plugin_warning";

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

// The length of what follows the plugin's name in the warning.
// @ts-ignore: decorator
@inline const SUFFIX_LENGTH: usize = 61;

function warnPassThrough(): void {
  let at = startPluginWarning(SUFFIX_LENGTH);
  at = put(at, 0x2073656b616d2022, 8); // '" makes '
  at = put(at, 0x6165727473206f6e, 8); // "no strea"
  at = put(at, 0x7865746e6f63206d, 8); // "m contex"
  at = put(at, 0x7320737469203b74, 8); // "t; its s"
  at = put(at, 0x7020736d61657274, 8); // "treams p"
  at = put(at, 0x6f72687420737361, 8); // "ass thro"
  at = put(at, 0x6f746e7520686775, 8); // "ugh unto"
  at = put(at, 0x6465686375, 5); // "uched"
  logPluginWarning(at);
}
