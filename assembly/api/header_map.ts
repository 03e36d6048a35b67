import { MapType, WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_DATA, OUT_SIZE, OUT_U32, takeBytes, takeString, dropResult, stageText, stagedLength, bufferLength } from "../runtime/memory";
import { Header, serializePairs, deserializePairs } from "../runtime/pairs";
import { HeaderPairs } from "./header_pairs";

/**
 * One host header map: request/response headers or trailers, gRPC metadata, or the headers
 * and trailers of an http-call answer. Every method is one host round trip; nothing is cached,
 * and keys are passed as given (Envoy lower-cases them).
 *
 * Availability (Envoy): request headers in onRequestHeaders (and while the request is paused
 * from there), response headers in onResponseHeaders, trailers in their callbacks (or, to add
 * them, in the last body callback), http-call maps only in onHttpCallResponse, gRPC metadata
 * only in its callback; headers are readable (not writable) in onLog. Elsewhere reads give
 * null / empty and writes return BadArgument.
 */
// Unmanaged: it holds only a type id, lives for the whole VM, and so costs the GC nothing.
// @ts-ignore: decorator
@unmanaged
export class HeaderMap {
  constructor(
    /** The host map this object works on. */
    public readonly type: MapType,
  ) {}

  /** The first value of `key`, or null when absent or the map is unavailable (lastResult()
   * tells NotFound from BadArgument). Invalid UTF-8 sequences become U+FFFD: use getBytes
   * (and isValidUtf8) when the exact bytes matter. */
  get(key: string): string | null {
    const ptr = stageText(0, changetype<usize>(key));
    if (host.getHeaderMapValue(this.type, ptr, stagedLength(0)) != WasmResult.Ok) {
      dropResult();
      return null;
    }
    return takeString();
  }

  /** The first value of `key` as raw bytes, or null (see get). */
  getBytes(key: string): ArrayBuffer | null {
    const ptr = stageText(0, changetype<usize>(key));
    if (host.getHeaderMapValue(this.type, ptr, stagedLength(0)) != WasmResult.Ok) {
      dropResult();
      return null;
    }
    return takeBytes();
  }

  /** True if `key` is present (one round trip, the value is discarded). */
  has(key: string): bool {
    const ptr = stageText(0, changetype<usize>(key));
    const found = host.getHeaderMapValue(this.type, ptr, stagedLength(0)) == WasmResult.Ok;
    dropResult();
    return found;
  }

  /**
   * Every entry in host order as a read-only snapshot whose names and values are compared and
   * decoded only when asked for (one host round trip, one copy of the host's bytes). The fast
   * way to scan a map: `pairs.nameIs(i, "user-agent")` compares bytes where getAll() builds a
   * Header per entry. Empty (count 0) when unavailable.
   */
  pairs(): HeaderPairs {
    if (host.getHeaderMapPairs(this.type) != WasmResult.Ok) {
      dropResult();
      return HeaderPairs.empty();
    }
    const pairs = HeaderPairs.parse(<usize>load<u32>(OUT_DATA), load<u32>(OUT_SIZE));
    dropResult();
    return pairs;
  }

  /** Every entry in host order (pseudo-headers first in Envoy), each copied into a Header.
   * Empty when unavailable. pairs() does the same work without a copy per entry. */
  getAll(): Array<Header> {
    if (host.getHeaderMapPairs(this.type) != WasmResult.Ok) {
      dropResult();
      return new Array<Header>();
    }
    const ptr = <usize>load<u32>(OUT_DATA);
    const headers = deserializePairs(ptr, load<u32>(OUT_SIZE));
    dropResult();
    return headers;
  }

  /** Appends an entry (an existing key keeps its values). */
  add(key: string, value: string): WasmResult {
    const keyPtr = stageText(0, changetype<usize>(key));
    const valuePtr = stageText(1, changetype<usize>(value));
    return host.addHeaderMapValue(this.type, keyPtr, stagedLength(0), valuePtr, stagedLength(1));
  }

  /** add() with a raw-bytes value. */
  addBytes(key: string, value: ArrayBuffer): WasmResult {
    const keyPtr = stageText(0, changetype<usize>(key));
    return host.addHeaderMapValue(this.type, keyPtr, stagedLength(0), changetype<usize>(value), bufferLength(value));
  }

  /** Sets `key` to exactly this value, adding it if absent. */
  replace(key: string, value: string): WasmResult {
    const keyPtr = stageText(0, changetype<usize>(key));
    const valuePtr = stageText(1, changetype<usize>(value));
    return host.replaceHeaderMapValue(this.type, keyPtr, stagedLength(0), valuePtr, stagedLength(1));
  }

  /** replace() with a raw-bytes value. */
  replaceBytes(key: string, value: ArrayBuffer): WasmResult {
    const keyPtr = stageText(0, changetype<usize>(key));
    return host.replaceHeaderMapValue(this.type, keyPtr, stagedLength(0), changetype<usize>(value), bufferLength(value));
  }

  /** Removes every entry of `key`; Ok also when it was absent. */
  remove(key: string): WasmResult {
    const keyPtr = stageText(0, changetype<usize>(key));
    return host.removeHeaderMapValue(this.type, keyPtr, stagedLength(0));
  }

  /** Replaces the whole map with `headers` (in order, duplicates kept). */
  setAll(headers: Array<Header>): WasmResult {
    const pairs = serializePairs(headers);
    return host.setHeaderMapPairs(this.type, changetype<usize>(pairs), pairs.byteLength);
  }

  /** The host's size of the map: in Envoy the total bytes of keys and values (not the entry
   * count). 0 when unavailable. */
  byteSize(): u32 {
    return host.getHeaderMapSize(this.type) == WasmResult.Ok ? load<u32>(OUT_U32) : 0;
  }
}

// Each map below is a static block holding its type, not an object built at module start
// (HeaderMap is unmanaged: its only field is the type).

/** The request headers; available only in onRequestHeaders (elsewhere calls give null / empty and lastResult()
 * says why). */
// @ts-ignore: decorator
@lazy export const requestHeaders: HeaderMap = changetype<HeaderMap>(memory.data<u32>([MapType.RequestHeaders]));
/** The request trailers; available only in onRequestTrailers (elsewhere calls give null / empty and lastResult()
 * says why). */
// @ts-ignore: decorator
@lazy export const requestTrailers: HeaderMap = changetype<HeaderMap>(memory.data<u32>([MapType.RequestTrailers]));
/** The response headers; available only in onResponseHeaders (elsewhere calls give null / empty and lastResult()
 * says why). */
// @ts-ignore: decorator
@lazy export const responseHeaders: HeaderMap = changetype<HeaderMap>(memory.data<u32>([MapType.ResponseHeaders]));
/** The response trailers; available only in onResponseTrailers (elsewhere calls give null / empty and lastResult()
 * says why). */
// @ts-ignore: decorator
@lazy export const responseTrailers: HeaderMap = changetype<HeaderMap>(memory.data<u32>([MapType.ResponseTrailers]));
/** The initial metadata of a gRPC stream or call answer; available only in onGrpcReceiveInitialMetadata (elsewhere calls give null / empty and lastResult()
 * says why). */
// @ts-ignore: decorator
@lazy export const grpcInitialMetadata: HeaderMap = changetype<HeaderMap>(memory.data<u32>([MapType.GrpcReceiveInitialMetadata]));
/** The trailing metadata of a gRPC stream or call answer; available only in onGrpcReceiveTrailingMetadata (elsewhere calls give null / empty and lastResult()
 * says why). */
// @ts-ignore: decorator
@lazy export const grpcTrailingMetadata: HeaderMap = changetype<HeaderMap>(memory.data<u32>([MapType.GrpcReceiveTrailingMetadata]));
/** The headers of an httpCall answer; available only in onHttpCallResponse (elsewhere calls give null / empty and lastResult()
 * says why). */
// @ts-ignore: decorator
@lazy export const httpCallResponseHeaders: HeaderMap = changetype<HeaderMap>(memory.data<u32>([MapType.HttpCallResponseHeaders]));
/** The trailers of an httpCall answer; available only in onHttpCallResponse (elsewhere calls give null / empty and lastResult()
 * says why). */
// @ts-ignore: decorator
@lazy export const httpCallResponseTrailers: HeaderMap = changetype<HeaderMap>(memory.data<u32>([MapType.HttpCallResponseTrailers]));
