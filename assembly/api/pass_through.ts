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
 * @internal The context of a stream that `root` made no context for (its createHttpContext and
 * createTcpContext both gave null): a bare marker whose stream callbacks all continue and whose
 * done, log and delete do nothing. The first one of each root logs a warning naming its plugin.
 */
export function passThroughContext(contextId: u32, root: usize): usize {
  if (!load<bool>(root, offsetof<RootContext>("passThroughWarned"))) {
    store<bool>(root, true, offsetof<RootContext>("passThroughWarned"));
    log.warn('plugin "' + pluginName() + '" makes no stream context; its streams pass through untouched');
  }
  return changetype<usize>(new Context(contextId, ContextKind.PassThrough));
}

// The plugin_name property ("" when the host has none).
function pluginName(): string {
  const path = stageText(0, changetype<usize>("plugin_name"));
  if (host.getProperty(path, stagedLength(0)) == WasmResult.Ok) return takeString();
  dropResult();
  return "";
}
