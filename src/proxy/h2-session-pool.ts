import { connect, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import type { ClusterStats } from "./cluster-stats";
import type { ClusterConfig } from "./config/dev-proxy-config";
import { isUnresolvedHost } from "./unresolved-host";
import { classifyUpstreamError, type UpstreamReset } from "./upstream-reset";
import { upstreamTlsOptions } from "./upstream-tls";

/** What became of one session: whether its connection came up, and the first error it reported. */
interface SessionState {
  connected: boolean;
  error: NodeJS.ErrnoException | undefined;
}

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
 * With `stats`, each session is a connection of its cluster (`upstream_cx_total`/`_active`), and a
 * session that fails counts the connection stats of its reset once (upstream-reset.ts: a session
 * that never connected is one `upstream_cx_connect_fail`, `upstream_cx_destroy`,
 * `upstream_cx_destroy_remote`, however many streams were waiting on it), as Envoy's pool counts
 * connections, not requests, there; each stream that fails with it counts the request stats
 * (`upstream_rq_pending_failure_eject`) where it is answered (`ClusterStats.upstreamReset`).
 *
 * The pool records for each session whether it connected and its first error, so that a stream
 * that ends without a response is classified as Envoy's router would (`resetOf`): routed traffic,
 * HTTP callouts and gRPC callouts to HTTP/2 clusters get the same reasons as over HTTP/1.1.
 */
export class H2SessionPool {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private readonly sessionStates = new WeakMap<ClientHttp2Session, SessionState>();
  private readonly streamStates = new WeakMap<ClientHttp2Stream, SessionState>();

  constructor(private readonly stats?: ClusterStats) {}

  /** The live session to `cluster`, connecting when there is none. */
  sessionFor(cluster: ClusterConfig): ClientHttp2Session {
    const existing = this.sessions.get(cluster.name);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const session = cluster.tls
      ? connect(`https://${cluster.url.host}`, { ...upstreamTlsOptions(cluster.tls), ALPNProtocols: ["h2"] })
      : connect(cluster.url.origin);
    const state: SessionState = { connected: false, error: undefined };
    this.sessionStates.set(session, state);
    session.once("connect", () => (state.connected = true));
    if (this.stats !== undefined) {
      const stats = this.stats;
      stats.connection(cluster.name, session);
      session.once("error", (error: NodeJS.ErrnoException) => {
        // A name that does not resolve is no host at all (no healthy upstream), not a failed connection.
        if (isUnresolvedHost(error)) return;
        stats.connectionReset(cluster.name, classifyUpstreamError(error, state.connected));
      });
    }
    // A refused connection is reported on each stream; the session error itself needs a listener.
    session.on("error", (error: NodeJS.ErrnoException) => {
      state.error ??= error;
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

  /** Opens a stream on `cluster`'s session (see `sessionFor`), remembered for `resetOf`. */
  request(cluster: ClusterConfig, ...args: Parameters<ClientHttp2Session["request"]>): ClientHttp2Stream {
    const session = this.sessionFor(cluster);
    const stream = session.request(...args);
    const state = this.sessionStates.get(session);
    if (state !== undefined) this.streamStates.set(stream, state);
    return stream;
  }

  /**
   * Envoy's reset for `stream` (opened by `request`), which ended without a response with `error`
   * (undefined: it closed without one): the session's first error when it failed (node:http2
   * cancels a failed session's streams with that error as `cause`), classified by whether the
   * session had connected.
   */
  resetOf(stream: ClientHttp2Stream, error?: NodeJS.ErrnoException): UpstreamReset {
    const state = this.streamStates.get(stream);
    const cause = state?.error ?? (error?.cause as NodeJS.ErrnoException | undefined) ?? error ?? Object.assign(new Error("connection closed"), { code: "ECONNRESET" });
    return classifyUpstreamError(cause, state?.connected ?? false);
  }

  /** Destroys every session (their streams error out). */
  close(): void {
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}
