import { WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_U32, stageText, stagedLength, bufferLength } from "../runtime/memory";
import { Header, serializePairs, stagePairs, stagedPairsLength } from "../runtime/pairs";
import { Context } from "./context";
import { rememberCallout } from "./callouts";

/**
 * Sends an HTTP request to `cluster` (an Envoy cluster name). `headers` must contain `:method`,
 * `:path` and `:authority` (Envoy answers BadArgument otherwise, as for an unknown cluster).
 * `timeoutMs` 0 means no timeout. The answer arrives in `caller.onHttpCallResponse`, with the
 * caller effective; if the caller is deleted first the answer is dropped.
 * Returns the call's token, or 0 if the host refused the call (lastResult() says why).
 * Legal in any callback after module start.
 */
export function httpCall(
  caller: Context,
  cluster: string,
  headers: Array<Header>,
  body: ArrayBuffer | null,
  trailers: Array<Header> | null,
  timeoutMs: u32,
): u32 {
  // The headers go in the SDK's reusable pairs block; trailers (rare) get a buffer of their own.
  const headerPairs = stagePairs(headers);
  let trailerPairs: ArrayBuffer | null = null;
  if (trailers !== null) trailerPairs = serializePairs(trailers);
  const clusterPtr = stageText(0, changetype<usize>(cluster));
  const status = host.httpCall(clusterPtr, stagedLength(0), headerPairs, stagedPairsLength(),
    changetype<usize>(body), bufferLength(body), changetype<usize>(trailerPairs), bufferLength(trailerPairs), timeoutMs);
  if (status != WasmResult.Ok) return 0;
  const token = load<u32>(OUT_U32);
  rememberCallout(token, caller.id, false);
  return token;
}
