import { MapType, WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_DATA, OUT_SIZE, OUT_U32, takeString, dropResult, stageText, stagedLength } from "../runtime/memory";
import { HeaderMap, httpCallResponseHeaders, httpCallResponseTrailers } from "./header_map";
import { httpCallResponseBody } from "./buffer";

/**
 * The answer to an httpCall, valid only inside onHttpCallResponse (the host discards the
 * headers, body and trailers when that callback returns: copy what is needed later).
 */
export class HttpCallResponse {
  constructor(
    /** Number of response headers; 0 when the call failed (see failed). */
    public readonly headerCount: u32,
    /** Size of the response body in bytes (read it with body() / bodyText()). */
    public readonly bodySize: u32,
    /** Number of response trailers. */
    public readonly trailerCount: u32,
  ) {}

  /** True if the call never produced a response (stream reset, response over the buffer
   * limit): the host reports it with no headers at all. Timeouts and unhealthy upstreams are
   * not failures: they arrive as responses with status 504 / 503. */
  get failed(): bool {
    return this.headerCount == 0;
  }

  /** Response headers (including `:status`). */
  get headers(): HeaderMap {
    return httpCallResponseHeaders;
  }

  /** Response trailers (empty map when there were none). */
  get trailers(): HeaderMap {
    return httpCallResponseTrailers;
  }

  /** The HTTP status from `:status`, or 0 if failed or not a number. One round trip. */
  status(): u32 {
    // Parsed from the host's bytes: no string is built for a number.
    const key = stageText(0, changetype<usize>(":status"));
    if (host.getHeaderMapValue(MapType.HttpCallResponseHeaders, key, stagedLength(0)) != WasmResult.Ok) {
      dropResult();
      return 0;
    }
    const text = <usize>load<u32>(OUT_DATA);
    const length = <usize>load<u32>(OUT_SIZE);
    let code: u32 = 0;
    for (let i: usize = 0; i < length; i++) {
      const digit = <u32>load<u8>(text + i) - 48;
      if (digit > 9) {
        code = 0;
        break;
      }
      code = code * 10 + digit;
    }
    dropResult();
    return code;
  }

  /** The whole response body as bytes. */
  body(): ArrayBuffer {
    return httpCallResponseBody.bytes();
  }

  /** The whole response body as UTF-8 text. */
  bodyText(): string {
    return httpCallResponseBody.text();
  }

  /** For a failed call, the host's reason (Envoy: "reset"). Reads proxy_get_status, which is
   * stale after a successful call, so check `failed` first. */
  failureMessage(): string {
    if (host.getStatus() != WasmResult.Ok) {
      dropResult();
      return "";
    }
    return takeString();
  }

  /** For a failed call, the host's status code (Envoy: WasmResult.BrokenConnection, 11). */
  failureCode(): u32 {
    if (host.getStatus() != WasmResult.Ok) return 0;
    dropResult();
    return load<u32>(OUT_U32);
  }
}
