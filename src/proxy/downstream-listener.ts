import { createServer as createHttp1Server, type Server as Http1Server } from "node:http";
import { createServer as createH2cServer, type Http2Server } from "node:http2";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { DownstreamTlsConfig } from "./config/tls-config";
import { downstreamTlsServerOptions, refusedClientCertificate } from "./downstream-tls";
import type { DownstreamRequest, DownstreamResponse } from "./http-stream-exchange";

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

export async function startDownstreamListener(
  host: string,
  port: number,
  handle: (req: DownstreamRequest, res: DownstreamResponse) => void,
  tls: DownstreamTlsConfig | null = null,
): Promise<DownstreamListener> {
  const http1: Http1Server = createHttp1Server({ keepAliveTimeout: 60_000 }, handle);
  const h2c: Http2Server = createH2cServer({}, handle);
  const sockets = new Set<Socket>();
  const accept = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    if ((socket as TLSSocket).alpnProtocol === "h2") h2c.emit("connection", socket);
    else socket.once("readable", () => dispatch(socket));
  };
  let tcp: TcpServer;
  if (tls === null) {
    tcp = createTcpServer(accept);
  } else {
    tcp = createTlsServer(downstreamTlsServerOptions(tls), (socket: TLSSocket) => {
      if (refusedClientCertificate(socket, tls)) socket.destroy();
      else accept(socket);
    });
    tcp.on("tlsClientError", () => {});
  }

  const dispatch = (socket: Socket): void => {
    const head: Buffer | null = socket.read();
    if (head === null) {
      // Closed before sending anything, or an empty read: wait for real bytes.
      if (!socket.destroyed) socket.once("readable", () => dispatch(socket));
      return;
    }
    socket.unshift(head);
    const compared = Math.min(head.length, H2_PREFACE.length);
    const isH2 = head.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
    // Node's HTTP/2 server hands a TLS connection without ALPN to HTTP/1; the preface said h2.
    if (isH2 && (socket as TLSSocket).alpnProtocol === false) Object.defineProperty(socket, "alpnProtocol", { value: "h2" });
    (isH2 ? h2c : http1).emit("connection", socket);
  };

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => resolve());
  });
  return {
    host,
    port: (tcp.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        http1.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}
