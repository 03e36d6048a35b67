import { FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus } from "../abi/enums";
import { Context, ContextKind } from "./context";
import { RootContext } from "./root_context";
import { HeaderMap, requestHeaders, requestTrailers, responseHeaders, responseTrailers } from "./header_map";
import { Buffer, requestBody, responseBody } from "./buffer";

/**
 * One HTTP stream. Subclass it and override the callbacks the filter needs; every callback
 * defaults to Continue. Created by RootContext.createHttpContext.
 */
export class HttpContext extends Context {
  // @ts-ignore: decorator
  @inline constructor(
    id: u32,
    /** The root context that created this stream (its plugin's configuration and state). */
    public readonly root: RootContext,
  ) {
    super(id, ContextKind.Http);
  }

  /** Request headers arrived (`headerCount` includes pseudo-headers). */
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  /** A request body chunk; `bodySize` is the whole buffered body if the previous call
   * returned StopIterationAndBuffer. */
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  /** Request trailers arrived (only for requests that have them). */
  onRequestTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }

  /** HTTP/2 METADATA on the request (Envoy only; the host ignores any return). */
  onRequestMetadata(elementCount: u32): void {}

  /** Response headers arrived (`headerCount` includes `:status`). */
  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  /** A response body chunk; `bodySize` is the whole buffered body if the previous call
   * returned StopIterationAndBuffer. */
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  /** Response trailers arrived (only for responses that have them). */
  onResponseTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }

  /** HTTP/2 METADATA on the response (Envoy only). */
  onResponseMetadata(elementCount: u32): void {}

  /** The request headers; readable and writable in onRequestHeaders (afterwards Envoy
   * answers with errors, see HeaderMap). */
  get requestHeaders(): HeaderMap { return requestHeaders; }
  /** The request trailers; only in onRequestTrailers. */
  get requestTrailers(): HeaderMap { return requestTrailers; }
  /** The response headers; readable and writable in onResponseHeaders. */
  get responseHeaders(): HeaderMap { return responseHeaders; }
  /** The response trailers; only in onResponseTrailers. */
  get responseTrailers(): HeaderMap { return responseTrailers; }
  /** The request body (the buffered part); only in onRequestBody. */
  get requestBody(): Buffer { return requestBody; }
  /** The response body (the buffered part); only in onResponseBody. */
  get responseBody(): Buffer { return responseBody; }
}
