import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { closeServer } from "./echo-upstream";
import { LOG_LEVELS, parseLogLevel, type ProxyLogger } from "./proxy-logger";
import type { ProxyStats } from "./proxy-stats";

/**
 * Envoy's admin endpoint, the parts filter authors use:
 * - `GET /ready`: 200 `LIVE` once the proxy serves traffic, 503 `PRE_INITIALIZING` before;
 * - `GET /stats` (optional `?filter=<regex>`) and `GET /stats/prometheus`;
 * - `POST /logging?level=<level>` (or `?wasm=<level>` / `?paths=wasm:<level>`) sets the log level
 *   and answers with the active levels; `GET`/`POST /logging` without a level lists them.
 * Anything else is 404. Envoy refuses state-changing GETs, so `/logging` with a level needs POST.
 */
export interface AdminServer {
  readonly url: string;
  readonly port: number;
  /** Flips `/ready` to LIVE. */
  markReady(): void;
  close(): Promise<void>;
}

export async function startAdminServer(
  host: string,
  port: number,
  stats: ProxyStats,
  logger: ProxyLogger,
  onLevelChange: (level: (typeof LOG_LEVELS)[number]) => void = () => {},
): Promise<AdminServer> {
  let ready = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://admin");
    const send = (status: number, body: string, type = "text/plain; charset=UTF-8"): void => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-cache, max-age=0" });
      res.end(body);
    };
    switch (url.pathname) {
      case "/ready":
        return ready ? send(200, "LIVE\n") : send(503, "PRE_INITIALIZING\n");
      case "/stats": {
        const filterText = url.searchParams.get("filter");
        let filter: RegExp | undefined;
        if (filterText !== null && filterText !== "") {
          try {
            filter = new RegExp(filterText);
          } catch {
            return send(400, `Invalid re2 regex: ${filterText}\n`);
          }
        }
        const rendered = filter;
        void stats.refresh().then(() => send(200, stats.renderText(rendered)));
        return;
      }
      case "/stats/prometheus":
        void stats.refresh().then(() => send(200, stats.renderPrometheus(), "text/plain; version=0.0.4"));
        return;
      case "/logging": {
        const requested = url.searchParams.get("level") ?? url.searchParams.get("wasm") ?? levelFromPaths(url.searchParams.get("paths"));
        if (requested === null) return send(200, activeLevels(logger.level));
        if (req.method !== "POST") return send(405, "This endpoint requires POST\n");
        const level = parseLogLevel(requested);
        if (level === undefined) return send(400, `error: unknown logger level: ${requested}\nvalid levels: ${LOG_LEVELS.join(", ")}\n`);
        logger.level = level;
        onLevelChange(level);
        return send(200, activeLevels(level));
      }
      default:
        return send(404, "invalid path. admin commands are: /ready /stats /stats/prometheus /logging\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Once listening, a failed accept (e.g. EMFILE) is the only error the server itself emits;
  // its connections' errors (resets included) are node:http's to handle, per connection.
  server.on("error", (error) => logger.log("admin", "error", `admin ${host}:${port}: ${error.message}`));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    markReady: () => {
      ready = true;
    },
    close: () => closeServer(server),
  };
}

/** `paths=wasm:debug` (Envoy's per-logger form); only the `wasm` logger exists here. */
function levelFromPaths(paths: string | null): string | null {
  if (paths === null) return null;
  const match = /(?:^|,)wasm:([a-z]+)/.exec(paths);
  return match ? match[1] : null;
}

function activeLevels(level: string): string {
  return `active loggers:\n  admin: ${level}\n  http: ${level}\n  main: ${level}\n  router: ${level}\n  wasm: ${level}\n`;
}
