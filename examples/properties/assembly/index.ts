// properties: per-route authentication driven by route metadata. The route names the request
// header it requires in its filter metadata; requests without that header get a 401.
import {
  RootContext, HttpContext, FilterHeadersStatus, GrpcStatus, getPropertyString, sendLocalResponse, log,
  registerHttpFilter,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

// Envoy resolves route metadata under `xds`; before the `xds.*` names existed (and until they
// replaced the old ones in late 2024) the same value was at the top-level `route_metadata`.
const AUTH_PATH = ["xds", "route_metadata", "filter_metadata", "envoy.filters.http.wasm", "auth"];
const LEGACY_AUTH_PATH = ["route_metadata", "filter_metadata", "envoy.filters.http.wasm", "auth"];

class RouteAuth extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    let auth = getPropertyString(AUTH_PATH);
    if (auth === null) auth = getPropertyString(LEGACY_AUTH_PATH);
    if (auth === null) {
      log.info("no auth header for route");
      return FilterHeadersStatus.Continue;
    }
    log.info('auth header is "' + auth + '"');
    if (this.requestHeaders.has(auth)) return FilterHeadersStatus.Continue;

    // No body; the gRPC status makes gRPC clients see UNAUTHENTICATED instead of a bare 401.
    sendLocalResponse(401, "", null, "", GrpcStatus.Unauthenticated);
    // StopIteration: the local response is queued and sent once this callback returns.
    return FilterHeadersStatus.StopIteration;
  }

  onDone(): bool {
    log.info(this.id.toString() + " finished");
    return true;
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new RouteAuth(contextId, root));
