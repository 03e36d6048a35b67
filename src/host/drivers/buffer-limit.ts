/**
 * Envoy's per-stream buffer limit: what a filter may hold back of one direction's body while it
 * buffers. Envoy's filter manager keeps a filter's buffered body in a watermark buffer whose high
 * watermark is the downstream connection's buffer limit, the listener's
 * `per_connection_buffer_limit_bytes` (default 1 MiB): envoy source/common/http/filter_manager.cc
 * `ActiveStreamDecoderFilter::createBuffer` / `ActiveStreamEncoderFilter::createBuffer`, limit
 * taken in source/common/http/conn_manager_impl.cc from `connection().bufferLimit()`.
 *
 * Past it (more than the limit held), a filter that buffers (StopIterationAndBuffer, or
 * StopAllIterationAndBuffer from a headers callback) fails the stream: `requestDataTooLarge`
 * answers 413 `Payload Too Large` (details `request_payload_too_large`, HCM stat
 * `downstream_rq_too_large`); `responseDataTooLarge` answers 500 `Internal Server Error` (details
 * `response_payload_too_large`, stat `rs_too_large`), or resets the stream once response headers
 * went downstream. A filter that streams (the `...AndWatermark` statuses) only gets flow control.
 */
import { HeaderMap } from "../header-map";
import type { LocalReply } from "../context";

/** Envoy's default `per_connection_buffer_limit_bytes` (listener and cluster): 1 MiB. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

/** Largest value Envoy accepts (`per_connection_buffer_limit_bytes` is a UInt32Value). */
export const MAX_BUFFER_LIMIT_BYTES = 0xffff_ffff;

/** `response.code_details` Envoy sets (source/common/stream_info/utility.h `ResponseCodeDetailValues`). */
export const REQUEST_PAYLOAD_TOO_LARGE = "request_payload_too_large";
export const RESPONSE_PAYLOAD_TOO_LARGE = "response_payload_too_large";

/** Which direction's buffer overflowed. */
export type BufferSide = "request" | "response";

/**
 * True when `held` bytes are past `limit`. A limit of 0 turns the check off, as a watermark
 * buffer with a high watermark of 0 never fires (source/common/buffer/watermark_buffer.cc).
 */
export function overLimit(held: number, limit: number): boolean {
  return limit > 0 && held > limit;
}

/** The local reply Envoy sends when a buffering filter's `side` overflows. */
export function bufferOverflowReply(side: BufferSide): LocalReply {
  return side === "request"
    ? { status: 413, headers: new HeaderMap(), body: new TextEncoder().encode("Payload Too Large"), details: REQUEST_PAYLOAD_TOO_LARGE, grpcStatus: undefined }
    : { status: 500, headers: new HeaderMap(), body: new TextEncoder().encode("Internal Server Error"), details: RESPONSE_PAYLOAD_TOO_LARGE, grpcStatus: undefined };
}

/**
 * Checks a buffer limit given by a user (flag, config field, test-kit option): a whole number
 * from 0 (no limit) to 4294967295. Returns it, or throws an Error naming `where`.
 */
export function checkBufferLimit(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_BUFFER_LIMIT_BYTES) {
    throw new RangeError(`${where}: expected a whole number of bytes from 0 (no limit) to ${MAX_BUFFER_LIMIT_BYTES}, got ${typeof value === "string" ? `"${value}"` : String(value)}`);
  }
  return value;
}
