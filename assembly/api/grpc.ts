// gRPC calls and streams. Answers are routed like HTTP callouts: to the Context that made the
// call, made effective, through its onGrpc* callbacks; dropped if that context is gone.
import { WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_U32, stageText, stagedLength, bufferLength, takeString, dropResult } from "../runtime/memory";
import { Header, serializePairs } from "../runtime/pairs";
import { Context } from "./context";
import { rememberCallout, forgetCallout } from "./callouts";

function metadataPairs(metadata: Array<Header> | null): ArrayBuffer | null {
  if (metadata === null) return null;
  return serializePairs(metadata);
}

/**
 * A unary call: `service` is a cluster name (or a serialized GrpcService), `serviceName` e.g.
 * "helloworld.Greeter", `method` e.g. "SayHello", `message` the serialized request. The answer
 * arrives as onGrpcReceive (success) or onGrpcClose (failure). Returns the token, or 0 if the
 * host refused (lastResult(): ParseFailure unknown cluster, BadArgument, InternalFailure).
 */
export function grpcCall(
  caller: Context, service: string, serviceName: string, method: string,
  metadata: Array<Header> | null, message: ArrayBuffer | null, timeoutMs: u32,
): u32 {
  const pairs = metadataPairs(metadata);
  const servicePtr = stageText(0, changetype<usize>(service));
  const serviceNamePtr = stageText(1, changetype<usize>(serviceName));
  const methodPtr = stageText(2, changetype<usize>(method));
  const status = host.grpcCall(servicePtr, stagedLength(0), serviceNamePtr, stagedLength(1), methodPtr, stagedLength(2),
    changetype<usize>(pairs), bufferLength(pairs), changetype<usize>(message), bufferLength(message), timeoutMs);
  if (status != WasmResult.Ok) return 0;
  const token = load<u32>(OUT_U32);
  rememberCallout(token, caller.id, false);
  return token;
}

/** Opens a bidirectional stream; events arrive in the caller's onGrpc* callbacks until
 * onGrpcClose. Returns the token, or 0 if refused (see grpcCall). */
export function grpcStream(
  caller: Context, service: string, serviceName: string, method: string, metadata: Array<Header> | null,
): u32 {
  const pairs = metadataPairs(metadata);
  const servicePtr = stageText(0, changetype<usize>(service));
  const serviceNamePtr = stageText(1, changetype<usize>(serviceName));
  const methodPtr = stageText(2, changetype<usize>(method));
  const status = host.grpcStream(servicePtr, stagedLength(0), serviceNamePtr, stagedLength(1), methodPtr, stagedLength(2),
    changetype<usize>(pairs), bufferLength(pairs));
  if (status != WasmResult.Ok) return 0;
  const token = load<u32>(OUT_U32);
  rememberCallout(token, caller.id, true);
  return token;
}

/** Sends a message on a stream; `endStream` half-closes it. NotFound for an unknown token,
 * BadArgument for a unary-call token. */
export function grpcSend(token: u32, message: ArrayBuffer, endStream: bool = false): WasmResult {
  return host.grpcSend(token, changetype<usize>(message), message.byteLength, endStream);
}

/** Half-closes a stream (or cancels a call). No further events are delivered to the filter. */
export function grpcClose(token: u32): WasmResult {
  forgetCallout(token);
  return host.grpcClose(token);
}

/** Cancels a call or resets a stream; no further events. */
export function grpcCancel(token: u32): WasmResult {
  forgetCallout(token);
  return host.grpcCancel(token);
}

/** Inside onGrpcClose: the status message the host reports. */
export function grpcStatusMessage(): string {
  if (host.getStatus() != WasmResult.Ok) {
    dropResult();
    return "";
  }
  return takeString();
}
