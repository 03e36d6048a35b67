import { createServer as createHttp1Server, type Server as Http1Server } from "node:http";
import { createServer as createH2cServer, type Http2Server } from "node:http2";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { DownstreamTlsConfig } from "./config/tls-config";
import { DownstreamConnection } from "./downstream-connection";
import { downstreamTlsServerOptions, refusedClientCertificate } from "./downstream-tls";
import { H2ConnectionWatch } from "./h2-goaway-watch";
import type { DownstreamRequest, DownstreamResponse } from "./http-stream-exchange";
import type { ProxyLogger } from "./proxy-logger";
import type { ProxyStats } from "./proxy-stats";

/** The HTTP/2 client connection preface (RFC 9113 §3.4); its first bytes tell h2c from HTTP/1.1. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * One TCP port serving HTTP/1.1 and h2c with prior knowledge (what `curl --http2-prior-knowledge`
 * and gRPC clients send), as Envoy's `codec_type: AUTO` does on a plaintext listener. The first
 * bytes of each connection pick the codec. With `tls` (the filter chain's DownstreamTlsContext)
 * the port serves TLS: ALPN `h2` picks HTTP/2, anything else the first bytes as above (a
 * connection without ALPN that starts with the HTTP/2 preface is served HTTP/2 too, as Envoy's
 * AUTO codec does).
 */
export interface DownstreamListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Where the listener counts connections and reports accept errors, and its TLS; all optional. */
export interface DownstreamListenerOptions {
  stats?: ProxyStats;
  logger?: ProxyLogger;
  /** Serve TLS (a bootstrap `transport_socket`); plaintext when absent. */
  tls?: DownstreamTlsConfig | null;
}

/**
 * Starts listening on `host:port` (0 picks a free port). Each accepted socket is a
 * DownstreamConnection (error listener and Envoy's connection counters) before its first byte.
 */
export async function startDownstreamListener(
  host: string,
  port: number,
  handle: (req: DownstreamRequest, res: DownstreamResponse) => void,
  options: DownstreamListenerOptions = {},
): Promise<DownstreamListener> {
  const { stats, logger, tls } = options;
  const http1: Http1Server = createHttp1Server({ keepAliveTimeout: 60_000 }, handle);
  const h2c: Http2Server = createH2cServer({}, handle);
  const connections = new Set<DownstreamConnection>();
  const accept = (socket: Socket): void => {
    const connection = new DownstreamConnection(socket, stats, logger, () => connections.delete(connection));
    connections.add(connection);
    if ((socket as TLSSocket).alpnProtocol === "h2") startH2(connection);
    else socket.once("readable", () => dispatch(connection));
  };
  let tcp: TcpServer;
  if (!tls) {
    tcp = createTcpServer(accept);
  } else {
    tcp = createTlsServer(downstreamTlsServerOptions(tls), (socket: TLSSocket) => {
      if (refusedClientCertificate(socket, tls)) socket.destroy();
      else accept(socket);
    });
    // A failed handshake never reaches a codec (Envoy: the transport socket closes it).
    tcp.on("tlsClientError", () => {});
  }

  const startH2 = (connection: DownstreamConnection): void => {
    // The session reads the socket from now on: a GOAWAY it receives is the peer closing.
    h2c.once("session", (session) => session.once("goaway", () => connection.remoteClosed()));
    // The session writes through a watch that closes the connection after a GOAWAY with an error.
    h2c.emit(
      "connection",
      new H2ConnectionWatch(connection.socket, (code) => {
        stats?.http("downstream_cx_protocol_error");
        logger?.log("http", "debug", `h2c connection closed after GOAWAY with error code ${code}`);
      }),
    );
  };

  const dispatch = (connection: DownstreamConnection): void => {
    const socket = connection.socket;
    const head: Buffer | null = socket.read();
    if (head === null) {
      // Closed before sending anything, or an empty read: wait for real bytes.
      if (!socket.destroyed) socket.once("readable", () => dispatch(connection));
      return;
    }
    socket.unshift(head);
    const compared = Math.min(head.length, H2_PREFACE.length);
    const isH2 = head.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
    if (!isH2) {
      http1.emit("connection", socket);
      return;
    }
    // Node's HTTP/2 server hands a TLS connection without ALPN to HTTP/1; the preface said h2.
    if ((socket as TLSSocket).alpnProtocol === false) Object.defineProperty(socket, "alpnProtocol", { value: "h2" });
    startH2(connection);
  };

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  // Errors of the listening socket once it listens (an accept failing, e.g. EMFILE) end no connection.
  tcp.on("error", (error) => logger?.log("main", "error", `listener ${host}:${port}: ${error.message}`));
  return {
    host,
    port: (tcp.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        http1.closeAllConnections();
        for (const connection of connections) connection.socket.destroy();
      }),
  };
}

/**
 * The TCP connection a request arrived on. An h2c request's `socket` is Node's wrapper around
 * the watched connection, which knows no addresses; the connection itself does.
 */
export function downstreamSocket(req: DownstreamRequest): Socket | undefined {
  const socket = req.socket as (Socket & { stream?: unknown }) | undefined;
  const watched = socket?.stream;
  return watched instanceof H2ConnectionWatch ? watched.socket : socket;
}
