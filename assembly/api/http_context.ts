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
  constructor(id: u32, public readonly root: RootContext) {
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

  onRequestTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }

  /** HTTP/2 METADATA on the request (Envoy only; the host ignores any return). */
  onRequestMetadata(elementCount: u32): void {}

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  onResponseTrailers(trailerCount: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }

  /** HTTP/2 METADATA on the response (Envoy only). */
  onResponseMetadata(elementCount: u32): void {}

  get requestHeaders(): HeaderMap { return requestHeaders; }
  get requestTrailers(): HeaderMap { return requestTrailers; }
  get responseHeaders(): HeaderMap { return responseHeaders; }
  get responseTrailers(): HeaderMap { return responseTrailers; }
  get requestBody(): Buffer { return requestBody; }
  get responseBody(): Buffer { return responseBody; }
}
