import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The built-in upstream `run` uses when no `--upstream` is given, so the dev proxy works with
 * nothing else installed. Every request is answered 200 with a JSON body
 * `{"method", "path", "headers", "body", "trailers"}` describing what arrived (headers and
 * trailers as name -> value objects, repeated names joined with ", "; body as UTF-8 text), with
 * `content-type: application/json`.
 */
export interface EchoUpstream {
  /** Base URL, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** What the echo upstream sends back, as JSON. */
export interface EchoReply {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  trailers: Record<string, string>;
}

/** Starts the echo upstream on `host:port` (port 0 picks a free one). Resolves once listening. */
export async function startEchoUpstream(host = "127.0.0.1", port = 0): Promise<EchoUpstream> {
  const server = createServer(answerWithEcho);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Once listening, only a failed accept (e.g. EMFILE) reaches here: that one connection is lost,
  // which the proxy sees as an upstream connect failure (503).
  server.on("error", () => {});
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    close: () => closeServer(server),
  };
}

function answerWithEcho(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const reply: EchoReply = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: joined(req.headers),
      body: Buffer.concat(chunks).toString("utf8"),
      trailers: joined(req.trailers),
    };
    const body = Buffer.from(JSON.stringify(reply));
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
}

function joined(headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** Closes a server and every idle keep-alive connection it still holds. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
