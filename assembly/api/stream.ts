// Stream control for the current (or effective) context: resume, reset, local responses.
import { StreamType, WasmResult, GrpcStatus } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { stageText, stagedLength, bufferLength } from "../runtime/memory";
import { Header, serializePairs } from "../runtime/pairs";

/** Resumes a request paused by a non-Continue return (Envoy: after the current callback
 * returns). Ok even if nothing is paused. After it, Envoy no longer exposes the request
 * headers/body/trailers. */
export function continueRequest(): WasmResult {
  return host.continueStream(StreamType.Request);
}

/** Resumes a paused response. */
export function continueResponse(): WasmResult {
  return host.continueStream(StreamType.Response);
}

/** Resumes reading a TCP connection paused in onDownstreamData. (Upstream: Unimplemented.) */
export function continueDownstream(): WasmResult {
  return host.continueStream(StreamType.Downstream);
}

/** Resets the HTTP stream (Envoy details `wasm_close_stream`), or closes a TCP connection with
 * StreamType.Downstream / Upstream. */
export function closeStream(stream: StreamType): WasmResult {
  return host.closeStream(stream);
}

/**
 * Answers the HTTP stream without (or instead of) the upstream. Effective only on an HTTP
 * stream (Envoy: Ok and nothing happens from root or TCP contexts); the current callback's
 * return value is then overridden to a stop. `details` becomes response.code_details
 * (whitespace replaced by '_'); `grpcStatus` InvalidCode means none.
 */
export function sendLocalResponse(
  statusCode: u32,
  body: string = "",
  headers: Array<Header> | null = null,
  details: string = "",
  grpcStatus: GrpcStatus = GrpcStatus.InvalidCode,
): WasmResult {
  const pairs = serializePairs(headers === null ? new Array<Header>() : headers);
  const bodyPtr = stageText(0, changetype<usize>(body));
  const detailsPtr = stageText(1, changetype<usize>(details));
  return host.sendLocalResponse(statusCode, detailsPtr, stagedLength(1), bodyPtr, stagedLength(0),
    changetype<usize>(pairs), pairs.byteLength, grpcStatus);
}

/** sendLocalResponse with a raw-bytes body. */
export function sendLocalResponseBytes(
  statusCode: u32,
  body: ArrayBuffer | null,
  headers: Array<Header> | null = null,
  details: string = "",
  grpcStatus: GrpcStatus = GrpcStatus.InvalidCode,
): WasmResult {
  const pairs = serializePairs(headers === null ? new Array<Header>() : headers);
  const detailsPtr = stageText(1, changetype<usize>(details));
  return host.sendLocalResponse(statusCode, detailsPtr, stagedLength(1), changetype<usize>(body), bufferLength(body),
    changetype<usize>(pairs), pairs.byteLength, grpcStatus);
}
