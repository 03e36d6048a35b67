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
 * created and `downstream_cx_destroy` when destroyed).
 */
export class DownstreamConnection {
  /** Who closed first: the peer (FIN, RST, GOAWAY, a failed read or write), or this proxy. */
  private closedBy: "remote" | "local" | undefined;

  constructor(
    readonly socket: Socket,
    stats: ProxyStats | undefined,
    logger: ProxyLogger | undefined,
    onClose: () => void,
  ) {
    stats?.http("downstream_cx_total");
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
    socket.on("close", () => {
      stats?.http("downstream_cx_destroy");
      stats?.http(`downstream_cx_destroy_${this.closedBy ?? "local"}`);
      onClose();
    });
  }

  /**
   * The peer ended the connection in a way the socket itself does not show (an HTTP/2 GOAWAY
   * read by the session, which owns the socket's reads). Legal at any time; only the first close counts.
   */
  remoteClosed(): void {
    this.closedBy ??= "remote";
  }
}
