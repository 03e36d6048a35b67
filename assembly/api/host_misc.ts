// Time, effective context and foreign functions.
import { WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_U64, stageText, stagedLength, bufferLength, takeBytes, dropResult } from "../runtime/memory";

/** Wall-clock time in nanoseconds since the Unix epoch (advances within a callback); 0 on
 * failure. */
export function currentTimeNanoseconds(): u64 {
  return host.getCurrentTimeNanoseconds() == WasmResult.Ok ? load<u64>(OUT_U64) : 0;
}

/** Makes later hostcalls in this callback act on context `contextId` (the SDK already does
 * this for callout answers). BadArgument for an unknown id. */
export function setEffectiveContext(contextId: u32): WasmResult {
  return host.setEffectiveContext(contextId);
}

/** Calls host function `name` (Envoy: compress, uncompress, clear_route_cache,
 * declare_property, set_envoy_filter_state, ...). Returns its output (empty if it produced
 * none), or null on failure (lastResult(): NotFound for an unknown name, else its own code). */
export function callForeignFunction(name: string, args: ArrayBuffer | null = null): ArrayBuffer | null {
  const namePtr = stageText(0, changetype<usize>(name));
  if (host.callForeignFunction(namePtr, stagedLength(0), changetype<usize>(args), bufferLength(args)) != WasmResult.Ok) {
    dropResult();
    return null;
  }
  return takeBytes();
}
