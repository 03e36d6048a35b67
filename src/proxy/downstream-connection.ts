import type { Socket } from "node:net";
import type { ProxyLogger } from "./proxy-logger";
import type { ProxyStats } from "./proxy-stats";

/**
 * One accepted downstream TCP connection, watched from its first moment, before the codec is
 * chosen: it always has an error listener, so a client that resets (RST) before or after its
 * first byte ends its own connection only. Envoy closes a connection whose read or write fails as
 * RemoteClose (envoy source/common/network/connection_impl.cc onReadReady / onWriteReady ->
 * closeSocket(ConnectionEvent::RemoteClose)), and its connection manager counts every close
 * (envoy source/common/http/conn_manager_impl.cc ConnectionManagerImpl::onEvent:
 * `downstream_cx_destroy_remote` or `downstream_cx_destroy_local`; `downstream_cx_total` when
 * created and `downstream_cx_destroy` when destroyed; the gauge `downstream_cx_active`; and, when
 * streams were still open, `downstream_cx_destroy_active_rq` and
 * `downstream_cx_destroy_remote_active_rq` / `downstream_cx_destroy_local_active_rq`).
 */
const connectionOf = new WeakMap<Socket, DownstreamConnection>();

export class DownstreamConnection {
  /** Who closed first: the peer (FIN, RST, GOAWAY, a failed read or write), or this proxy. */
  private closedBy: "remote" | "local" | undefined;
  /** Streams begun on this connection and not yet ended (answered, replied locally or reset). */
  private activeStreams = 0;

  /** The connection `socket` (as a request sees it, see `downstreamSocket`) belongs to, if any. */
  static of(socket: Socket | undefined): DownstreamConnection | undefined {
    return socket === undefined ? undefined : connectionOf.get(socket);
  }

  constructor(
    readonly socket: Socket,
    stats: ProxyStats | undefined,
    logger: ProxyLogger | undefined,
    onClose: () => void,
  ) {
    connectionOf.set(socket, this);
    stats?.http("downstream_cx_total");
    stats?.adjustGauge(`http.${stats.httpStatPrefix}.downstream_cx_active`, 1);
    socket.on("end", () => this.remoteClosed());
    socket.on("finish", () => (this.closedBy ??= "local"));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // A system call that failed (ECONNRESET on read, EPIPE on write) is the peer's doing; an
      // error without one is the codec refusing the bytes (HPE_* from node:http), which closes
      // the connection from this side as Envoy's codec error does.
      if (error.syscall !== undefined) this.remoteClosed();
      else this.closedBy ??= "local";
      logger?.log("conn", "debug", `downstream connection error: ${error.code ?? error.message}`);
    });
    // Registered before any codec's own listener, so the streams still open are counted here
    // before the codec ends them.
    socket.on("close", () => {
      const closedBy = this.closedBy ?? "local";
      stats?.http("downstream_cx_destroy");
      stats?.http(`downstream_cx_destroy_${closedBy}`);
      if (this.activeStreams > 0) {
        stats?.http("downstream_cx_destroy_active_rq");
        stats?.http(`downstream_cx_destroy_${closedBy}_active_rq`);
      }
      stats?.adjustGauge(`http.${stats.httpStatPrefix}.downstream_cx_active`, -1);
      onClose();
    });
  }

  /** A stream began on this connection; `streamEnded` must follow once, however it ends. */
  streamStarted(): void {
    this.activeStreams++;
  }

  streamEnded(): void {
    if (this.activeStreams > 0) this.activeStreams--;
  }

  /**
   * The peer ended the connection in a way the socket itself does not show (an HTTP/2 GOAWAY
   * read by the session, which owns the socket's reads). Legal at any time; only the first close counts.
   */
  remoteClosed(): void {
    this.closedBy ??= "remote";
  }
}
