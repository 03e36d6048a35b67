import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type RequestOptions, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, type DevProxyConfig } from "../../src/proxy/config/dev-proxy-config";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { startDevProxy, type DevProxy } from "../../src/proxy/dev-proxy";
import type { HttpFilterFactory } from "../../src/proxy/filters/http-filter";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";

/** Collects log lines instead of printing them. */
export class LogCapture {
  readonly lines: string[] = [];
  write(text: string): boolean {
    this.lines.push(...text.split("\n").filter((line) => line !== ""));
    return true;
  }
}

/** A dev proxy on free ports with TS filters standing in for Wasm ones (the chain plumbing is what is tested). */
export async function startTestProxy(
  filters: HttpFilterFactory[] = [],
  adjust: (config: DevProxyConfig) => void = () => {},
): Promise<{ proxy: DevProxy; logs: LogCapture }> {
  const config = defaultConfig();
  config.listener.port = 0;
  config.admin = { host: "127.0.0.1", port: 0 };
  adjust(config);
  const logs = new LogCapture();
  const logger = new ProxyLogger({ level: config.logLevel, output: logs, colour: false });
  const proxy = await startDevProxy(config, {
    logger,
    buildFilters: async () => ({ current: () => filters, close: async () => {} }),
  });
  return { proxy, logs };
}

/** Points the default route at `url`. */
export function useUpstream(url: string): (config: DevProxyConfig) => void {
  return (config) => {
    config.clusters.push(clusterFromUrl("upstream", url, "test"));
    config.echoUpstream = false;
  };
}

/** A throwaway upstream on a free port. */
export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface SimpleResponse {
  status: number;
  headers: IncomingMessage["headers"];
  rawHeaders: string[];
  trailers: IncomingMessage["trailers"];
  body: string;
}

/** One HTTP/1.1 request on a fresh connection; `body` chunks are written in order. */
export function http1Request(url: string, options: RequestOptions & { body?: string[] } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          trailers: res.trailers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    for (const chunk of options.body ?? []) req.write(chunk);
    req.end();
  });
}

/**
 * Resolves once `predicate` holds, polling every few ms. Not a timing assertion: the 60 s bound
 * only turns a hang into a failure on a machine of any speed.
 */
export async function until(predicate: () => boolean, what = "condition"): Promise<void> {
  const giveUp = Date.now() + 60_000;
  while (!predicate()) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A dev proxy on free ports running one Wasm plugin (`wasm`, FAIL_CLOSED, on the listener's
 * thread) in front of the echo upstream unless `adjust` says otherwise. `close` also removes the
 * module's temporary file.
 */
export async function startWasmTestProxy(
  wasm: Uint8Array,
  adjust: (config: DevProxyConfig) => void = () => {},
): Promise<{ proxy: DevProxy; logs: LogCapture }> {
  const dir = mkdtempSync(join(tmpdir(), "pwas-proxy-"));
  const wasmPath = join(dir, "plugin.wasm");
  writeFileSync(wasmPath, wasm);
  const config = defaultConfig();
  config.listener.port = 0;
  config.admin = { host: "127.0.0.1", port: 0 };
  config.filters = [
    {
      name: "my_plugin",
      rootId: "",
      vmId: "",
      wasmPath,
      pluginConfiguration: Buffer.alloc(0),
      vmConfiguration: Buffer.alloc(0),
      failurePolicy: "FAIL_CLOSED",
      allowOnHeadersStopIteration: false,
    },
  ];
  adjust(config);
  const logs = new LogCapture();
  try {
    const proxy = await startDevProxy(config, {
      logger: new ProxyLogger({ level: config.logLevel, output: logs, colour: false }),
      buildFilters: buildWasmFilters,
    });
    const close = proxy.close;
    return { proxy: { ...proxy, close: () => close().finally(() => rmSync(dir, { recursive: true, force: true })) }, logs };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
