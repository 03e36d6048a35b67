import type { HeaderList } from "../header-list";

/**
 * What one finished HTTP stream leaves for the access log: the facts Envoy's StreamInfo holds
 * when it writes its access log at the end of the stream (envoy source/common/http/conn_manager_impl.cc
 * `ActiveStream::~ActiveStream` → `log()`).
 */
export interface AccessLogEntry {
  startTime: Date;
  /** The request headers as the router saw them (after the filters), pseudo-headers included. */
  requestHeaders: HeaderList;
  /** The response headers as sent downstream; empty when no response started. */
  responseHeaders: HeaderList;
  /** `HTTP/1.1`, `HTTP/1.0` or `HTTP/2`. */
  protocol: string;
  /** The response status sent downstream, 0 when none was. */
  responseCode: number;
  /** Envoy's response code details (`via_upstream`, `route_not_found`, ...), or "" when unknown. */
  responseCodeDetails: string;
  /** Envoy's short response flags (`UT`, `UF`, `NR`, `DC`, ...), in the order they were set. */
  responseFlags: string[];
  /** Request body bytes read from the downstream. */
  bytesReceived: number;
  /** Response body bytes written to the downstream. */
  bytesSent: number;
  /** Milliseconds from the first request byte to the end of the stream. */
  durationMs: number;
  /** `host:port` of the upstream the router contacted, or "". */
  upstreamHost: string;
  /** The cluster the route picked, or "". */
  upstreamCluster: string;
  /** The downstream peer and the listener address, `ip:port` each. */
  downstreamRemoteAddress: string;
  downstreamLocalAddress: string;
}
