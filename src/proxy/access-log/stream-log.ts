import type { HeaderList } from "../header-list";
import type { AccessLogEntry } from "./access-log-entry";

/** Envoy's short response flag for a router reply, by its response code details. */
const FLAG_OF_DETAILS: Record<string, string> = {
  route_not_found: "NR",
  cluster_not_found: "NC",
  upstream_response_timeout: "UT",
  no_healthy_upstream: "UH",
};

/**
 * Collects, while a stream runs, what its access log line needs (envoy's StreamInfo), so the
 * exchange only reports events. Response flags as Envoy names them
 * (envoy source/common/stream_info/utility.cc): `NR` no route, `NC` no cluster, `UF` upstream
 * connection failure, `UC` upstream connection termination, `UPE` upstream protocol error (an
 * upstream reset sets its own, see upstream-reset.ts), `UH` no healthy upstream, `UT` upstream
 * request timeout, `DC` downstream connection termination.
 */
export class StreamLog {
  private readonly startTime = new Date();
  private readonly startMs = Date.now();
  private requestHeaders: HeaderList;
  private responseHeaders: HeaderList = [];
  private responseCode = 0;
  private responseCodeDetails = "";
  private readonly responseFlags: string[] = [];
  private bytesReceived = 0;
  private bytesSent = 0;
  private upstreamHost = "";

  constructor(
    requestHeaders: HeaderList,
    private readonly protocol: string,
    private readonly downstreamRemoteAddress: string,
    private readonly downstreamLocalAddress: string,
    /** The cluster of the route the connection manager picked, known before any filter ran. */
    private upstreamCluster: string,
  ) {
    this.requestHeaders = requestHeaders;
  }

  /** The router sends `headers` to `cluster` at `host` (`ip:port`). */
  routed(headers: HeaderList, cluster: string, host: string): void {
    this.requestHeaders = headers;
    this.upstreamCluster = cluster;
    this.upstreamHost = host;
  }

  /** The router answered itself (no route, timeout, connect failure, ...). */
  routerReply(details: string): void {
    this.responseCodeDetails = details;
    const flag = FLAG_OF_DETAILS[details];
    if (flag !== undefined) this.flag(flag);
    // No host was picked: Envoy prints UPSTREAM_HOST as `-` (the proxy only learns it when connecting).
    if (details === "no_healthy_upstream") this.upstreamHost = "";
  }

  /** The upstream's response headers arrived (details `via_upstream`, as in Envoy). */
  upstreamResponded(): void {
    this.responseCodeDetails = "via_upstream";
  }

  /** A filter answered locally with these details. */
  localReply(details: string): void {
    this.responseCodeDetails = details;
  }

  flag(flag: string): void {
    if (!this.responseFlags.includes(flag)) this.responseFlags.push(flag);
  }

  responseHead(status: number, headers: HeaderList): void {
    this.responseCode = status;
    this.responseHeaders = headers;
  }

  received(bytes: number): void {
    this.bytesReceived += bytes;
  }

  sent(bytes: number): void {
    this.bytesSent += bytes;
  }

  /** The entry as of now (the stream has ended). */
  entry(): AccessLogEntry {
    return {
      startTime: this.startTime,
      requestHeaders: this.requestHeaders,
      responseHeaders: this.responseHeaders,
      protocol: this.protocol,
      responseCode: this.responseCode,
      responseCodeDetails: this.responseCodeDetails,
      responseFlags: this.responseFlags,
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      durationMs: Date.now() - this.startMs,
      upstreamHost: this.upstreamHost,
      upstreamCluster: this.upstreamCluster,
      downstreamRemoteAddress: this.downstreamRemoteAddress,
      downstreamLocalAddress: this.downstreamLocalAddress,
    };
  }
}

/** `ip:port`, with brackets around an IPv6 address, as Envoy prints addresses. */
export function addressText(ip: string | undefined, port: number | undefined): string {
  if (ip === undefined || ip === "") return "";
  return `${ip.includes(":") ? `[${ip}]` : ip}:${port ?? 0}`;
}
