// Streams of a plugin whose root makes no stream context: a root-only plugin deployed as an HTTP
// or network filter, which is what an Istio WasmPlugin always is. The Rust and Go SDKs panic in
// proxy_on_context_create there, and Envoy then fails every stream of the VM; this SDK lets such
// streams pass through untouched and says so once per plugin.
import { WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { stageText, stagedLength, takeString, dropResult } from "../runtime/memory";
import { Context, ContextKind } from "./context";
import { RootContext } from "./root_context";
import { log } from "./log";

/**
 * @internal The context of a stream that the root at `root` made no context for (its
 * createHttpContext and createTcpContext both gave null): a bare marker whose stream callbacks
 * all continue and whose done, log and delete do nothing. The first one of each root logs
 * `plugin "<name>" makes no stream context; its streams pass through untouched` at warn level,
 * naming the plugin by its plugin_name (its root id when it has no name).
 */
export function passThroughContext(contextId: u32, root: usize): usize {
  const warned = root + offsetof<RootContext>("passThroughWarned");
  if (!load<bool>(warned)) {
    store<bool>(warned, true);
    let name = propertyText("plugin_name");
    if (name.length == 0) name = propertyText("plugin_root_id");
    log.warn('plugin "' + name + '" makes no stream context; its streams pass through untouched');
  }
  // Allocated after the warning, and returned as an address that the registry links at once:
  // no allocation happens while the marker is referenced by nothing.
  const marker = __new(offsetof<Context>(), idof<Context>());
  store<u32>(marker, contextId, offsetof<Context>("id"));
  store<i32>(marker, ContextKind.PassThrough, offsetof<Context>("kind"));
  return marker;
}

// A top-level property as text ("" when the host has none).
function propertyText(name: string): string {
  const path = stageText(0, changetype<usize>(name));
  if (host.getProperty(path, stagedLength(0)) == WasmResult.Ok) return takeString();
  dropResult();
  return "";
}
