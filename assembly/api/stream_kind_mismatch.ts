// Streams of the other kind: an HTTP-only plugin deployed as a network filter, or a TCP-only one
// as an HTTP filter. proxy_on_context_create does not say which kind of stream it creates, so
// the SDK asks the root for an HTTP context first and learns the kind only from the stream's
// first callback. Envoy calls in whatever the filter is configured as
// (envoy source/extensions/common/wasm/context.cc); cpp-host lets a stream continue past
// callbacks the module does not export (proxy-wasm-cpp-host src/context.cc, e.g.
// `ContextBase::onNetworkNewConnection`), and the C++ SDK's one Context class answers both kinds'
// callbacks with Continue (proxy-wasm-cpp-sdk proxy_wasm_api.h). The Rust and Go SDKs panic on
// the callback (proxy-wasm-rust-sdk src/dispatcher.rs "invalid context_id", proxy-wasm-go-sdk
// proxywasm/internal/abi_callback_l4.go "invalid context"), which fails the VM and with it every
// stream. This SDK lets such a stream pass through untouched, as it does the streams of a
// root-only plugin (pass_through.ts), and says so once per plugin.
//
// The context made for the stream stays: it gets proxy_on_done, proxy_on_log and proxy_on_delete
// like any stream that ended before its first callback. The build transform
// (transform/pass-through.mjs) replaces passesAsOtherKind with `false` when no stream can meet a
// callback of the other kind, and everything below goes with it.
import { LogLevel } from "../abi/enums";
import { idSetAdd, idSetHas } from "../runtime/id_set";
import { Context, ContextKind } from "./context";
import { HttpContext } from "./http_context";
import { TcpContext } from "./tcp_context";
import { log } from "./log";
import { logPluginWarning, put, startPluginWarning } from "./plugin_warning";

// The root contexts (by context id) whose streams have warned.
const WARNED_ROOTS: usize = memory.data(12, 4);

/**
 * @internal A callback of `kind` reached the live context at `context`: true if both are stream
 * kinds (then they differ, and the callback continues without the context); the plugin's first
 * such stream logs, at warn level,
 * `plugin "<plugin_name>" made an HTTP context for a TCP connection; such connections pass through untouched`
 * or `plugin "<plugin_name>" made a TCP context for an HTTP stream; such streams pass through untouched`
 * (the plugin's root id when it has no name). False when either is a root context: the host
 * broke the ABI's contract.
 */
export function passesAsOtherKind(context: usize, kind: ContextKind): bool {
  const made = load<i32>(context, offsetof<Context>("kind"));
  if (made == ContextKind.Root || kind == ContextKind.Root) return false;
  const root = made == ContextKind.Http
    ? load<usize>(context, offsetof<HttpContext>("root"))
    : load<usize>(context, offsetof<TcpContext>("root"));
  const rootId = load<u32>(root, offsetof<Context>("id"));
  if (idSetHas(WARNED_ROOTS, rootId)) return true;
  idSetAdd(WARNED_ROOTS, rootId);
  if (log.enabled(LogLevel.Warn)) {
    if (made == ContextKind.Http) warnHttpContextOnTcp();
    else warnTcpContextOnHttp();
  }
  return true;
}

function warnHttpContextOnTcp(): void {
  let at = startPluginWarning(84);
  at = put(at, 0x61206564616d2022, 8); // '" made a'
  at = put(at, 0x632050545448206e, 8); // "n HTTP c"
  at = put(at, 0x6620747865746e6f, 8); // "ontext f"
  at = put(at, 0x504354206120726f, 8); // "or a TCP"
  at = put(at, 0x7463656e6e6f6320, 8); // " connect"
  at = put(at, 0x637573203b6e6f69, 8); // "ion; suc"
  at = put(at, 0x63656e6e6f632068, 8); // "h connec"
  at = put(at, 0x617020736e6f6974, 8); // "tions pa"
  at = put(at, 0x756f726874207373, 8); // "ss throu"
  at = put(at, 0x756f746e75206867, 8); // "gh untou"
  at = put(at, 0x64656863, 4); // "ched"
  logPluginWarning(at);
}

function warnTcpContextOnHttp(): void {
  let at = startPluginWarning(76);
  at = put(at, 0x61206564616d2022, 8); // '" made a'
  at = put(at, 0x6e6f632050435420, 8); // " TCP con"
  at = put(at, 0x726f662074786574, 8); // "text for"
  at = put(at, 0x50545448206e6120, 8); // " an HTTP"
  at = put(at, 0x3b6d616572747320, 8); // " stream;"
  at = put(at, 0x7473206863757320, 8); // " such st"
  at = put(at, 0x617020736d616572, 8); // "reams pa"
  at = put(at, 0x756f726874207373, 8); // "ss throu"
  at = put(at, 0x756f746e75206867, 8); // "gh untou"
  at = put(at, 0x64656863, 4); // "ched"
  logPluginWarning(at);
}
