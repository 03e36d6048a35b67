import { connect, type ClientHttp2Session } from "node:http2";
import type { ClusterStats } from "./cluster-stats";
import type { ClusterConfig } from "./config/dev-proxy-config";
import { isUnresolvedHost } from "./unresolved-host";
import { upstreamTlsOptions } from "./upstream-tls";

/**
 * One HTTP/2 connection per cluster, shared by every stream to it (Envoy multiplexes a cluster's
 * HTTP/2 streams over one connection per worker). A session that closed or failed is replaced on
 * the next request. Used by routed traffic and by gRPC callouts alike.
 *
 * A cluster with an UpstreamTlsContext (`tls`) is reached over TLS offering ALPN `h2`, as Envoy
 * offers the pool's protocol as the ALPN fallback (envoy source/common/http/conn_pool_base.cc,
 * `wrapTransportSocketOptions`); the context's own `alpn_protocols` are not offered here, since
 * node:http2 speaks nothing but h2 on the connection. Without `tls`, h2c.
 *
 * With `stats`, each session is a connection of its cluster (`upstream_cx_total`/`_active`) and a
 * session that fails before it connected is one `upstream_cx_connect_fail`, however many streams
 * were waiting on it (Envoy counts connections, not requests, there).
 */
export class H2SessionPool {
  private readonly sessions = new Map<string, ClientHttp2Session>();

  constructor(private readonly stats?: ClusterStats) {}

  /** The live session to `cluster`, connecting when there is none. */
  sessionFor(cluster: ClusterConfig): ClientHttp2Session {
    const existing = this.sessions.get(cluster.name);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const session = cluster.tls
      ? connect(`https://${cluster.url.host}`, { ...upstreamTlsOptions(cluster.tls), ALPNProtocols: ["h2"] })
      : connect(cluster.url.origin);
    if (this.stats !== undefined) {
      const stats = this.stats;
      stats.connection(cluster.name, session);
      session.once("error", (error: Error) => {
        // A name that does not resolve is no host at all (no healthy upstream), not a failed connection.
        if (session.connecting && !isUnresolvedHost(error)) stats.connectFailed(cluster.name);
      });
    }
    // A refused connection is reported on each stream; the session error itself needs a listener.
    session.on("error", () => {
      if (this.sessions.get(cluster.name) === session) this.sessions.delete(cluster.name);
    });
    session.on("close", () => {
      if (this.sessions.get(cluster.name) === session) this.sessions.delete(cluster.name);
    });
    // An idle pooled connection must not keep the process alive.
    session.unref();
    this.sessions.set(cluster.name, session);
    return session;
  }

  /** Destroys every session (their streams error out). */
  close(): void {
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}
