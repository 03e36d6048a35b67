import { BufferType, WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_U32, takeBytes, takeString, dropResult, stageText, stagedLength, bufferLength, expectBuffer, takeBuffer } from "../runtime/memory";

// Envoy's proxy_set_buffer_bytes: start 0 drops `length` leading bytes then prepends;
// start >= size appends; anything in between is BadArgument.
const WHOLE: u32 = 0xFFFFFFFF;

/** @internal Bytes of buffer `type` (see Buffer.bytes), without needing a Buffer object. */
export function readBufferBytes(type: BufferType, start: u32, length: u32): ArrayBuffer {
  // After an error the dropped result is an empty block, which takes as an empty buffer.
  if (host.getBufferBytes(type, start, length) != WasmResult.Ok) dropResult();
  return takeBytes();
}

// Buffer.bytes() has the host write straight into the ArrayBuffer it returns: no copy per body
// chunk. Configurations (read once) keep readBufferBytes' copy, which costs add_header no code.
function readBufferInPlace(type: BufferType, start: u32, length: u32): ArrayBuffer {
  expectBuffer();
  host.getBufferBytes(type, start, length);
  return takeBuffer();
}

/** @internal Text of buffer `type` (see Buffer.text). */
export function readBufferText(type: BufferType, start: u32, length: u32): string {
  if (host.getBufferBytes(type, start, length) != WasmResult.Ok) {
    dropResult();
    return "";
  }
  return takeString();
}

/**
 * A host buffer: an HTTP body, TCP data, the http-call answer body, a gRPC message, a
 * configuration or foreign-function arguments. Every read returns a new object; nothing is cached.
 *
 * Envoy does not update `content-length` when a body changes: remove or fix that header in
 * onRequestHeaders / onResponseHeaders (before the body arrives) if the filter edits the body.
 */
// Unmanaged: it holds only a type id, lives for the whole VM, and so costs the GC nothing.
// @ts-ignore: decorator
@unmanaged
export class Buffer {
  constructor(
    /** The host buffer this object works on. */
    public readonly type: BufferType,
  ) {}

  /** Current length in bytes; 0 when the buffer is unavailable (see lastResult()). */
  size(): u32 {
    return host.getBufferStatus(this.type) == WasmResult.Ok ? load<u32>(OUT_U32) : 0;
  }

  /**
   * `length` bytes from `start` (clamped to the buffer, so the defaults read everything).
   * Empty when the buffer is unavailable here; lastResult() tells NotFound from empty. The host
   * writes the bytes straight into the returned ArrayBuffer (no copy, no string), so it is the
   * cheapest way to read or rewrite a body.
   */
  bytes(start: u32 = 0, length: u32 = WHOLE): ArrayBuffer {
    return readBufferInPlace(this.type, start, length);
  }

  /** Like bytes(), decoded as UTF-8; invalid sequences become U+FFFD (use bytes() for binary
   * data, isValidUtf8 to refuse them). */
  text(start: u32 = 0, length: u32 = WHOLE): string {
    return readBufferText(this.type, start, length);
  }

  /** Replaces the whole content. Only where the buffer is writable (its own callback, or
   * while paused from it); BadArgument / NotFound otherwise. */
  replace(data: ArrayBuffer): WasmResult {
    return host.setBufferBytes(this.type, 0, WHOLE, changetype<usize>(data), bufferLength(data));
  }

  /** Inserts `data` before the content. Same legality as replace(). */
  prepend(data: ArrayBuffer): WasmResult {
    return host.setBufferBytes(this.type, 0, 0, changetype<usize>(data), bufferLength(data));
  }

  /** Adds `data` after the content. Same legality as replace(). */
  append(data: ArrayBuffer): WasmResult {
    return host.setBufferBytes(this.type, WHOLE, 0, changetype<usize>(data), bufferLength(data));
  }

  /** replace() with UTF-8 text. */
  replaceText(text: string): WasmResult {
    const ptr = stageText(0, changetype<usize>(text));
    return host.setBufferBytes(this.type, 0, WHOLE, ptr, stagedLength(0));
  }

  /** prepend() with UTF-8 text. */
  prependText(text: string): WasmResult {
    const ptr = stageText(0, changetype<usize>(text));
    return host.setBufferBytes(this.type, 0, 0, ptr, stagedLength(0));
  }

  /** append() with UTF-8 text. */
  appendText(text: string): WasmResult {
    const ptr = stageText(0, changetype<usize>(text));
    return host.setBufferBytes(this.type, WHOLE, 0, ptr, stagedLength(0));
  }
}

/** The HTTP request body; available only in onRequestBody; writable there (elsewhere reads give
 * empty data and lastResult() says why). */
// @ts-ignore: decorator
@lazy export const requestBody = new Buffer(BufferType.HttpRequestBody);
/** The HTTP response body; available only in onResponseBody; writable there (elsewhere reads give
 * empty data and lastResult() says why). */
// @ts-ignore: decorator
@lazy export const responseBody = new Buffer(BufferType.HttpResponseBody);
/** The TCP bytes from the client; available only in onDownstreamData; writable there (elsewhere reads give
 * empty data and lastResult() says why). */
// @ts-ignore: decorator
@lazy export const downstreamData = new Buffer(BufferType.DownstreamData);
/** The TCP bytes from the upstream server; available only in onUpstreamData; writable there (elsewhere reads give
 * empty data and lastResult() says why). */
// @ts-ignore: decorator
@lazy export const upstreamData = new Buffer(BufferType.UpstreamData);
/** The body of an httpCall answer; available only in onHttpCallResponse; read-only (elsewhere reads give
 * empty data and lastResult() says why). */
// @ts-ignore: decorator
@lazy export const httpCallResponseBody = new Buffer(BufferType.HttpCallResponseBody);
/** The message of a gRPC stream or call answer; available only in onGrpcReceive; read-only (elsewhere reads give
 * empty data and lastResult() says why). */
// @ts-ignore: decorator
@lazy export const grpcMessage = new Buffer(BufferType.GrpcReceiveBuffer);
/** The argument of a foreign-function call from the host; available only in onForeignFunction; read-only (elsewhere reads give
 * empty data and lastResult() says why). */
// @ts-ignore: decorator
@lazy export const callData = new Buffer(BufferType.CallData);
