// Streams of a plugin whose root makes no stream context: a root-only plugin deployed as an HTTP
// or network filter, which is what an Istio WasmPlugin always is. The Rust and Go SDKs panic in
// proxy_on_context_create there, and Envoy then fails every stream of the VM; this SDK lets such
// streams pass through untouched and says so once per plugin.
import { LogLevel } from "../abi/enums";
import { Context, ContextKind } from "./context";
import { RootContext } from "./root_context";
import { writeText } from "./log";

/**
 * @internal The context of a stream that the root at `root` made no context for (its
 * createHttpContext and createTcpContext both gave null): a bare marker whose stream callbacks
 * all continue and whose done, log and delete do nothing. The first one of each root logs a
 * warning. Addresses in and out: no shadow-stack frame.
 */
export function passThroughContext(contextId: u32, root: usize): usize {
  const warned = root + offsetof<RootContext>("passThroughWarned");
  if (!load<bool>(warned)) {
    store<bool>(warned, true);
    writeText(LogLevel.Warn, changetype<usize>("makes no stream context: its streams pass through untouched"));
  }
  const marker = __new(offsetof<Context>(), idof<Context>());
  store<u32>(marker, contextId, offsetof<Context>("id"));
  store<i32>(marker, ContextKind.PassThrough, offsetof<Context>("kind"));
  return marker;
}
