import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { closeServer } from "./echo-upstream";
import { queryConfigDump } from "./admin/config-dump";
import { handleLogging } from "./admin/logging-handler";
import { withEnvoyResponseHeaders, writeResponseHead } from "./downstream-response-head";
import type { LogLevelName, ProxyLogger } from "./proxy-logger";
import type { ProxyStats } from "./proxy-stats";

/**
 * Envoy's admin endpoint, the parts filter authors use:
 * - `GET /ready`: 200 `LIVE` once the proxy serves traffic, 503 `PRE_INITIALIZING` before;
 * - `GET /stats` (optional `?filter=<regex>`) and `GET /stats/prometheus`;
 * - `GET /clusters` and `GET /config_dump` (see AdminViews);
 * - `POST /logging` lists the loggers' levels; `?level=<level>` sets them all, `?<name>=<level>`
 *   or `?paths=<name>:<level>,...` the named ones (see admin/logging-handler.ts); any other method is 405,
 *   as Envoy refuses it for this state-changing path.
 * Anything else is 404.
 */
/** What the admin endpoint shows of the running proxy. */
export interface AdminViews {
  /** `/clusters`: Envoy's text listing, or with `?format=json` its JSON (read after the stats are refreshed). */
  clusters?(format: "text" | "json"): unknown;
  /** `/config_dump`: the effective configuration in Envoy's shape (`{ configs: [...] }`). */
  configDump?(): unknown;
}

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
  onLevelChange: (wasmLevel: LogLevelName) => void = () => {},
  views: AdminViews = {},
): Promise<AdminServer> {
  let ready = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://admin");
    // Envoy's admin headers (envoy source/server/admin/utils.cc `populateFallbackResponseHeaders`),
    // then the connection manager's date and server and the codec's framing, as on the listener.
    const send = (status: number, body: string, type = "text/plain; charset=UTF-8"): void => {
      const headers = withEnvoyResponseHeaders([
        ["content-type", type],
        ["cache-control", "no-cache, max-age=0"],
        ["x-content-type-options", "nosniff"],
      ]);
      writeResponseHead(res, 1, status, headers, { connection: "keep-alive", endStream: body.length === 0, headRequest: req.method === "HEAD" });
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
        if (req.method !== "POST") return send(405, `Method ${req.method} not allowed, POST required.`);
        const answer = handleLogging(url.searchParams, logger, () => onLevelChange(logger.level));
        return send(answer.status, answer.body);
      }
      case "/clusters": {
        if (views.clusters === undefined) break;
        const json = url.searchParams.get("format") === "json";
        void stats.refresh().then(() =>
          json ? send(200, `${JSON.stringify(views.clusters!("json"), null, 2)}\n`, "application/json") : send(200, views.clusters!("text") as string),
        );
        return;
      }
      case "/config_dump": {
        if (views.configDump === undefined) break;
        const answer = queryConfigDump(views.configDump() as Parameters<typeof queryConfigDump>[0], url.searchParams);
        if (answer.status !== 200) return send(answer.status, String(answer.body));
        return send(200, `${JSON.stringify(answer.body, null, 2)}\n`, "application/json");
      }
    }
    return send(404, "invalid path. admin commands are: /clusters /config_dump /ready /stats /stats/prometheus /logging\n");
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
