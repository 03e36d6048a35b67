/**
 * What Envoy knows about a stream or connection, for the `request.*`, `response.*`,
 * `source.*`, `destination.*` and `connection.*` attributes (reference §3.5).
 */
import type { HeaderMap } from "./header-map";
import type { PropertyTree } from "./plugin-info";

export interface StreamInfo {
  /** Request headers as received from downstream (a copy the plugin's edits do not change). */
  requestHeaders: HeaderMap | null;
  responseHeaders: HeaderMap | null;
  responseTrailers: HeaderMap | null;
  /** Bytes of request body received and response body sent. */
  requestBodySize: number;
  responseBodySize: number;
  /**
   * Time the first request byte arrived, ms since epoch. The HTTP driver leaves it 0 (and `endTimeMs`
   * undefined) when the module does not import `proxy_get_property`, as nothing can read them then.
   */
  startTimeMs: number;
  /** Time the stream completed, or undefined while it runs. */
  endTimeMs: number | undefined;
  protocol: string;
  connectionId: number;
  sourceAddress: string;
  destinationAddress: string;
  /** `response.code_details`. */
  responseCodeDetails: string;
  /**
   * Values set with `proxy_set_property`, keyed by the path bytes (decoded) Envoy stores as
   * `wasm.<path>`; null until the first one is set (most streams never set any).
   */
  filterState: Map<string, Uint8Array> | null;
  /**
   * Envoy filter state objects set with the foreign function `set_envoy_filter_state`, keyed by
   * their path (e.g. `envoy.tcp_proxy.cluster`, which the dev proxy's tcp_proxy reads); null until
   * the first one is set.
   */
  envoyFilterState: Map<string, Uint8Array> | null;
  /** Per-stream property overrides supplied by the test or proxy. */
  overrides: PropertyTree;
}

export function newStreamInfo(startTimeMs: number, connectionId: number, overrides: PropertyTree = {}): StreamInfo {
  return {
    requestHeaders: null,
    responseHeaders: null,
    responseTrailers: null,
    requestBodySize: 0,
    responseBodySize: 0,
    startTimeMs,
    endTimeMs: undefined,
    protocol: "HTTP/1.1",
    connectionId,
    sourceAddress: "127.0.0.1:40000",
    destinationAddress: "127.0.0.1:10000",
    responseCodeDetails: "",
    filterState: null,
    envoyFilterState: null,
    overrides,
  };
}
