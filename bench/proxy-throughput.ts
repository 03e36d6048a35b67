/**
 * Requests per second through the dev proxy with the add_header filter, through the same proxy
 * with no filter, and through a plain Node reverse proxy, measured in one run with autocannon on
 * keep-alive connections against one tiny upstream. The filter's cost is the throughput it takes
 * from the proxy: (1 - rps(add_header) / rps(no filter)) * 100.
 */
import { existsSync } from "node:fs";
import { Agent, createServer, request, type IncomingMessage, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { defaultConfig, type DevProxyConfig } from "../src/proxy/config/dev-proxy-config";
import { clusterFromUrl } from "../src/proxy/config/load-config-file";
import { startDevProxy } from "../src/proxy/dev-proxy";
import { buildWasmFilters } from "../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../src/proxy/proxy-logger";

export interface ProxyThroughput {
  /** (1 - withAddHeader / withoutFilter) * 100. */
  filterCostPercent: number;
  rps: { withAddHeader: number; withoutFilter: number; plainNodeProxy: number };
  /** withAddHeader / withoutFilter, and withoutFilter / plainNodeProxy. */
  ratios: { addHeaderToNoFilter: number; noFilterToPlainNode: number };
  seconds: number;
  connections: number;
  note: string;
  [key: string]: unknown;
}

interface AutocannonResult {
  requests: { average: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; pipelining: number }) => Promise<AutocannonResult>;

const CONNECTIONS = 10;

export async function measureProxyThroughput(root: string): Promise<ProxyThroughput | null> {
  const wasmPath = join(root, "examples", "add_header", "build", "add_header.wasm");
  if (!existsSync(wasmPath)) return null;
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
  const seconds = Math.max(1, Number(process.env.BENCH_PROXY_SECONDS ?? 5));
  const quiet = new ProxyLogger({ level: "error", output: { write: () => true } });

  const closers: Array<() => Promise<void>> = [];
  try {
    const upstream = await listen(
      createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
        res.end("ok");
      }),
    );
    closers.push(upstream.close);

    const devProxy = async (withFilter: boolean) => {
      const config: DevProxyConfig = defaultConfig();
      config.listener.port = 0;
      config.admin = null;
      config.echoUpstream = false;
      config.logLevel = "error";
      config.clusters.push(clusterFromUrl("upstream", upstream.url, "bench"));
      if (withFilter) {
        config.filters = [
          {
            name: "add_header",
            rootId: "",
            vmId: "",
            wasmPath,
            pluginConfiguration: Buffer.from(JSON.stringify({ name: "x-bench", value: "yes" })),
            vmConfiguration: Buffer.alloc(0),
            failurePolicy: "FAIL_CLOSED",
            allowOnHeadersStopIteration: false,
          },
        ];
      }
      const proxy = await startDevProxy(config, { logger: quiet, buildFilters: buildWasmFilters });
      closers.push(() => proxy.close());
      return proxy.url;
    };
    const withAddHeaderUrl = await devProxy(true);
    const withoutFilterUrl = await devProxy(false);
    const plain = await startPlainNodeProxy(upstream.url);
    closers.push(plain.close);

    const measure = async (url: string): Promise<number> => {
      // A short warm-up so JIT tiers and connection pools are in place before measuring.
      await autocannon({ url, connections: CONNECTIONS, duration: 1, pipelining: 1 });
      const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
      return result.requests.average;
    };
    const withAddHeader = await measure(withAddHeaderUrl);
    const withoutFilter = await measure(withoutFilterUrl);
    const plainNodeProxy = await measure(plain.url);
    const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
    return {
      filterCostPercent: round((1 - withAddHeader / withoutFilter) * 100),
      rps: { withAddHeader: round(withAddHeader), withoutFilter: round(withoutFilter), plainNodeProxy: round(plainNodeProxy) },
      ratios: { addHeaderToNoFilter: round(withAddHeader / withoutFilter, 3), noFilterToPlainNode: round(withoutFilter / plainNodeProxy, 3) },
      seconds,
      connections: CONNECTIONS,
      note: "autocannon, keep-alive, one after the other in this process; the dev proxy runs the filter on one worker thread (--concurrency 1)",
    };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

/** The baseline: a reverse proxy in plain node:http with a keep-alive agent, no filter machinery. */
async function startPlainNodeProxy(upstreamUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(upstreamUrl);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const upstreamRequest = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upstreamResponse: IncomingMessage) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    upstreamRequest.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstreamRequest);
  });
  const listening = await listen(server);
  return {
    url: listening.url,
    close: async () => {
      await listening.close();
      agent.destroy();
    },
  };
}

async function listen(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
