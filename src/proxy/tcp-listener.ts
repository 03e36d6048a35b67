import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { downstreamTlsServerOptions, refusedClientCertificate } from "./downstream-tls";
import type { TcpListenerConfig } from "./config/tcp-listener-config";
import { TcpProxyConnection, type TcpConnectionEnv } from "./tcp-proxy-connection";

/** A running TCP listener of the dev proxy. */
export interface TcpListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** True when the listener terminates TLS. */
  readonly tls: boolean;
  /** Stops accepting and closes open connections (LOCAL, without flushing). */
  close(): Promise<void>;
}

/**
 * Listens for `env.listener` and plays each accepted connection through a TcpProxyConnection
 * (network filters, then tcp_proxy or direct_response). With a `transport_socket` TLS context the
 * filters see the decrypted bytes, as in Envoy, where the TLS transport socket sits below the
 * filter chain. Half-open connections are allowed: tcp_proxy passes a FIN on without closing.
 */
export async function startTcpListener(env: TcpConnectionEnv): Promise<TcpListener> {
  const { listener } = env;
  const connections = new Set<TcpProxyConnection>();
  const accept = (socket: Socket): void => {
    const connection = new TcpProxyConnection(socket, env);
    connections.add(connection);
    socket.on("close", () => connections.delete(connection));
  };
  const tls = listener.tls;
  let server: Server;
  if (tls === null) {
    server = createTcpServer({ allowHalfOpen: true }, accept);
  } else {
    server = createTlsServer({ allowHalfOpen: true, ...downstreamTlsServerOptions(tls) }, (socket: TLSSocket) => {
      if (refusedClientCertificate(socket, tls)) socket.destroy();
      else accept(socket);
    });
    // A failed handshake never reaches the filters (Envoy: the transport socket closes it).
    server.on("tlsClientError", () => {});
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listener.address.port, listener.address.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Errors of the listening socket once it listens (an accept failing, e.g. EMFILE) end no connection.
  server.on("error", (error) => env.logger.log("main", "error", `TCP listener ${listener.name} ${listener.address.host}:${listener.address.port}: ${error.message}`));
  return {
    name: listener.name,
    host: listener.address.host,
    port: (server.address() as AddressInfo).port,
    tls: tls !== null,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Closed now, so the filters see the LOCAL close before their plugins are shut down.
        for (const connection of connections) connection.closeLocally(false);
        connections.clear();
      }),
  };
}
