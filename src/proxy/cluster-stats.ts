import type { ClientRequest } from "node:http";
import type { ProxyStats } from "./proxy-stats";
import type { UpstreamReset } from "./upstream-reset";

/** A socket or an HTTP/2 session: something that closes once. */
interface Connection {
  once(event: "close", listener: () => void): unknown;
}

/** Stats of the connection rather than of a request: an HTTP/2 session counts them once for all its streams. */
function isConnectionStat(stat: string): boolean {
  return stat.startsWith("upstream_cx_");
}

/**
 * A cluster's traffic stats under Envoy's names, `cluster.<name>.<stat>`, charged alike for routed
 * requests and for the filters' callouts (Envoy's async client runs through the same router):
 * - `upstream_rq_total` per request sent, `upstream_cx_total` and the gauge `upstream_cx_active`
 *   per connection, `upstream_cx_connect_fail`, `upstream_rq_timeout` (ALL_CLUSTER_TRAFFIC_STATS,
 *   envoy envoy/upstream/upstream.h);
 * - per response code, `upstream_rq_completed`, `upstream_rq_<class>xx` and `upstream_rq_<code>`,
 *   and the same under `external.` (or `internal.` for a request marked `x-envoy-internal: true`,
 *   which Envoy's async client sets on every callout) (envoy source/common/http/codes.cc
 *   `CodeStatsImpl::chargeResponseStat`). The router charges its own 503/504 replies the same way
 *   (envoy source/common/router/router.cc `chargeUpstreamAbort`).
 * Like Envoy's dynamic stats, a name appears once it was counted first.
 */
export class ClusterStats {
  private readonly seenConnections = new WeakSet<object>();

  constructor(private readonly stats: ProxyStats) {}

  requestSent(cluster: string): void {
    this.stats.increment(`cluster.${cluster}.upstream_rq_total`);
  }

  /** Charges the response code of a request to `cluster` (the upstream's or the router's). */
  responseCode(cluster: string, status: number, internal: boolean): void {
    const prefix = `cluster.${cluster}.`;
    const category = internal ? "internal." : "external.";
    const group = status >= 100 && status < 600 ? `upstream_rq_${Math.floor(status / 100)}xx` : undefined;
    const code = status >= 100 && status < 600 ? `upstream_rq_${status}` : "upstream_rq_Unknown";
    for (const scope of [prefix, prefix + category]) {
      this.stats.increment(`${scope}upstream_rq_completed`);
      if (group !== undefined) this.stats.increment(scope + group);
      this.stats.increment(scope + code);
    }
  }

  timeout(cluster: string): void {
    this.stats.increment(`cluster.${cluster}.upstream_rq_timeout`);
  }

  /** Counts one stat of `cluster` by its Envoy name, without the `cluster.<name>.` prefix. */
  count(cluster: string, stat: string): void {
    this.stats.increment(`cluster.${cluster}.${stat}`);
  }

  /**
   * Counts what Envoy's pool and codec client count for an upstream reset before headers
   * (upstream-reset.ts). A stream on a shared HTTP/2 session (`sharedConnection`) counts only the
   * request's stats (`upstream_rq_*`): its session counts the connection's once (`connectionReset`).
   */
  upstreamReset(cluster: string, reset: UpstreamReset, sharedConnection = false): void {
    for (const stat of reset.stats) if (!sharedConnection || !isConnectionStat(stat)) this.count(cluster, stat);
  }

  /** Counts the connection stats (`upstream_cx_*`) of `reset` for one failed HTTP/2 session (see H2SessionPool). */
  connectionReset(cluster: string, reset: UpstreamReset): void {
    for (const stat of reset.stats) if (isConnectionStat(stat)) this.count(cluster, stat);
  }

  /** Counts `socket` as a new connection of `cluster` the first time it is seen; tracks it while open. */
  connection(cluster: string, socket: Connection): void {
    if (this.seenConnections.has(socket)) return;
    this.seenConnections.add(socket);
    this.stats.increment(`cluster.${cluster}.upstream_cx_total`);
    this.stats.adjustGauge(`cluster.${cluster}.upstream_cx_active`, 1);
    socket.once("close", () => this.stats.adjustGauge(`cluster.${cluster}.upstream_cx_active`, -1));
  }

  /** Counts the connection a node:http request gets (pooled connections count once). */
  watch(cluster: string, request: ClientRequest): void {
    request.once("socket", (socket) => this.connection(cluster, socket));
  }
}
