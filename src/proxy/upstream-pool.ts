import { Agent, request } from "node:http";
import { Agent as TlsAgent, request as tlsRequest } from "node:https";
import { ClusterStats } from "./cluster-stats";
import type { ClusterConfig } from "./config/dev-proxy-config";
import { H2SessionPool } from "./h2-session-pool";
import { H2UpstreamRequest, type UpstreamRequest, type UpstreamResponse } from "./h2-upstream-request";
import { headerValue, toOutgoingHeaders, type HeaderList } from "./header-list";
import { ProxyStats } from "./proxy-stats";
import { upstreamTlsOptions } from "./upstream-tls";

/**
 * Connection pools to the configured clusters (Envoy keeps one pool per cluster per worker):
 * keep-alive HTTP/1.1, or one HTTP/2 session per cluster when the cluster's protocol options ask for
 * HTTP/2 (`http2` in its config), as Envoy's router picks the upstream codec from the cluster
 * (envoy source/extensions/upstreams/http/config.cc, `ProtocolOptionsConfigImpl`). A cluster with
 * an UpstreamTlsContext (`tls`) is called over TLS either way: HTTPS for HTTP/1.1, HTTP/2 with ALPN
 * `h2` (see H2SessionPool). `open` starts a request whose headers are the filtered request headers.
 */
export class UpstreamPool {
  private readonly agents = new Map<string, Agent>();
  private readonly h2: H2SessionPool;

  constructor(
    private readonly clusters: ReadonlyMap<string, ClusterConfig>,
    /** Where the routed traffic's cluster stats go (a throwaway set when none is given). */
    readonly stats: ClusterStats = new ClusterStats(new ProxyStats()),
  ) {
    this.h2 = new H2SessionPool(stats);
  }

  /** The cluster named `name`, or undefined when no such cluster is configured. */
  cluster(name: string): ClusterConfig | undefined {
    return this.clusters.get(name);
  }

  /**
   * Starts a request on `cluster`: method and path from the pseudo-headers, `host` from
   * `:authority`. With `hasBody` the caller writes the body, then ends it. Errors arrive as the request's
   * `error` event. `downstreamHttpVersion` picks the protocol for a cluster with
   * `useDownstreamProtocol`.
   *
   * @throws what node:http / node:http2 throw for a head they refuse to send.
   */
  open(cluster: ClusterConfig, headers: HeaderList, hasBody: boolean, downstreamHttpVersion: 1 | 2 = 1): UpstreamRequest {
    const http2 = cluster.useDownstreamProtocol === true ? downstreamHttpVersion === 2 : cluster.http2;
    if (http2) {
      const h2Request = new H2UpstreamRequest(this.h2, cluster, headers, !hasBody);
      this.stats.requestSent(cluster.name);
      return h2Request;
    }
    let method = "GET";
    let path = "/";
    let authority: string | undefined;
    for (const [name, value] of headers) {
      if (name === ":method") method = value;
      else if (name === ":path") path = value;
      else if (name === ":authority") authority = value;
    }
    const outgoing = toOutgoingHeaders(headers);
    if (authority !== undefined) outgoing.host = authority;
    // The one hop-by-hop header Envoy forwards (see downstreamRequestHeaders).
    if (headerValue(headers, "te") === "trailers") outgoing.te = "trailers";
    // A body a filter may have resized cannot trust a stale length; chunked framing is always right.
    if (hasBody && outgoing["content-length"] === undefined) outgoing["transfer-encoding"] = "chunked";
    // A cluster with an UpstreamTlsContext is called over TLS (https.Agent takes the TLS options).
    const upstreamRequest = (cluster.tls ? tlsRequest : request)({
      agent: this.agentFor(cluster),
      protocol: cluster.tls ? "https:" : "http:",
      host: cluster.url.hostname,
      port: cluster.url.port === "" ? 80 : Number(cluster.url.port),
      method,
      path,
      headers: outgoing,
      // `host` comes from `:authority` above, which a filter may have rewritten.
      setHost: false,
    });
    this.stats.watch(cluster.name, upstreamRequest);
    this.stats.requestSent(cluster.name);
    return upstreamRequest;
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    this.h2.close();
  }

  private agentFor(cluster: ClusterConfig): Agent {
    let agent = this.agents.get(cluster.name);
    if (agent === undefined) {
      const options = { keepAlive: true, maxSockets: 256, timeout: cluster.connectTimeoutMs };
      agent = cluster.tls ? new TlsAgent({ ...options, ...upstreamTlsOptions(cluster.tls) }) : new Agent(options);
      this.agents.set(cluster.name, agent);
    }
    return agent;
  }
}

/** The upstream response head as pairs: `:status` first, then the headers as received. */
export function responseHeadersOf(response: UpstreamResponse): HeaderList {
  const headers: HeaderList = [[":status", String(response.statusCode ?? 502)]];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === "connection" || name === "keep-alive" || name === "transfer-encoding" || name === "upgrade") continue;
    headers.push([name, raw[i + 1]]);
  }
  return headers;
}
