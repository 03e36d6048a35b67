import { createServer as createHttp1Server, type Server as Http1Server } from "node:http";
import { createServer as createH2cServer, type Http2Server } from "node:http2";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { H2ConnectionWatch } from "./h2-goaway-watch";
import type { DownstreamRequest, DownstreamResponse } from "./http-stream-exchange";

/** The HTTP/2 client connection preface (RFC 9113 §3.4); its first bytes tell h2c from HTTP/1.1. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * One TCP port serving HTTP/1.1 and h2c with prior knowledge (what `curl --http2-prior-knowledge`
 * and gRPC clients send), as Envoy's `codec_type: AUTO` does on a plaintext listener. The first
 * bytes of each connection pick the codec.
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
  /** Told when an h2c connection is closed for a protocol error (its GOAWAY error code). */
  onH2ProtocolError: (errorCode: number) => void = () => {},
): Promise<DownstreamListener> {
  const http1: Http1Server = createHttp1Server({ keepAliveTimeout: 60_000 }, handle);
  const h2c: Http2Server = createH2cServer({}, handle);
  const sockets = new Set<Socket>();
  const tcp: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.once("readable", () => dispatch(socket));
  });

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
    if (isH2) h2c.emit("connection", new H2ConnectionWatch(socket, onH2ProtocolError));
    else http1.emit("connection", socket);
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

/**
 * The TCP connection a request arrived on. An h2c request's `socket` is Node's wrapper around
 * the watched connection, which knows no addresses; the connection itself does.
 */
export function downstreamSocket(req: DownstreamRequest): Socket | undefined {
  const socket = req.socket as (Socket & { stream?: unknown }) | undefined;
  const watched = socket?.stream;
  return watched instanceof H2ConnectionWatch ? watched.socket : socket;
}
