/**
 * The per-stream buffer limit in the dev proxy, with real HTTP/1.1 and h2c clients. Envoy bounds
 * what a filter buffers by the listener's per_connection_buffer_limit_bytes (default 1 MiB); a
 * buffering filter past it gets a 413 `Payload Too Large` for a request
 * (`request_payload_too_large`, stat downstream_rq_too_large) and a 500 or a reset for a response
 * (`response_payload_too_large`, stat rs_too_large): envoy source/common/http/filter_manager.cc
 * `requestDataTooLarge` / `responseDataTooLarge`. A response sent before the request ended closes
 * an HTTP/1.1 connection (`connection: close`) and resets an h2 stream with NO_ERROR
 * (source/common/http/conn_manager_impl.cc `encodeHeaders`, `doEndStream`).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http2 from "node:http2";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { defaultConfig, type DevProxyConfig, type WasmFilterConfig } from "../../src/proxy/config/dev-proxy-config";
import { startDevProxy, type DevProxy } from "../../src/proxy/dev-proxy";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { statusFilter } from "../helpers/status-filter";
import { http1Request, LogCapture, startUpstream, until, useUpstream } from "./proxy-test-helpers";

const HTTP_BODY = new URL("../../examples/http_body/build/http_body.wasm", import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), "pwas-buffer-limit-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const RESPONSE_HEADERS_BUFFER = join(dir, "response-headers-buffer.wasm");
writeFileSync(RESPONSE_HEADERS_BUFFER, statusFilter({ responseHeaders: 3 }));
const WATERMARK = join(dir, "watermark.wasm");
writeFileSync(WATERMARK, statusFilter({ requestBody: 2 }));
const RESPONSE_WATERMARK = join(dir, "response-watermark.wasm");
writeFileSync(RESPONSE_WATERMARK, statusFilter({ responseBody: 2 }));

function wasmFilter(wasmPath: string): WasmFilterConfig {
  return {
    name: "buffering",
    rootId: "",
    vmId: "",
    wasmPath,
    pluginConfiguration: Buffer.alloc(0),
    vmConfiguration: Buffer.alloc(0),
    failurePolicy: "FAIL_CLOSED",
    allowOnHeadersStopIteration: false,
  };
}

/** What the upstream saw of each request, by path. */
interface UpstreamRecord {
  bodies: Map<string, number>;
  /** Paths whose response the proxy stopped reading before it was whole. */
  abandoned: string[];
}

let upstream: Awaited<ReturnType<typeof startUpstream>>;
const seen: UpstreamRecord = { bodies: new Map(), abandoned: [] };

before(async () => {
  upstream = await startUpstream((req, res) => {
    let length = 0;
    req.on("data", (chunk: Buffer) => (length += chunk.length));
    res.on("close", () => {
      if (!res.writableFinished) seen.abandoned.push(req.url ?? "");
    });
    req.on("end", () => {
      seen.bodies.set(req.url ?? "", length);
      // /big/<n>: a response announcing n bytes whose first half comes at once. The second half
      // waits 30 s (the proxy gives up on it long before), so the proxy never sees the whole body
      // in one read, however loaded the machine is.
      const big = /^\/big\/(\d+)(?:\?.*)?$/.exec(req.url ?? "");
      if (big) {
        const size = Number(big[1]);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(size) });
        res.write(Buffer.alloc(size >> 1, "a"));
        const rest = setTimeout(() => res.end(Buffer.alloc(size - (size >> 1), "b")), 30_000);
        res.on("close", () => clearTimeout(rest));
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`got ${length}`);
    });
  });
});
after(() => upstream.close());

async function startProxy(filters: WasmFilterConfig[], adjust: (config: DevProxyConfig) => void = () => {}): Promise<{ proxy: DevProxy; logs: LogCapture }> {
  const config = defaultConfig();
  config.listener.port = 0;
  config.admin = { host: "127.0.0.1", port: 0 };
  useUpstream(upstream.url)(config);
  config.filters = filters;
  adjust(config);
  const logs = new LogCapture();
  const proxy = await startDevProxy(config, {
    logger: new ProxyLogger({ level: config.logLevel, output: logs, colour: false, thread: "main" }),
    buildFilters: buildWasmFilters,
  });
  return { proxy, logs };
}

async function stat(proxy: DevProxy, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${proxy.adminUrl}/stats`)).text();
  const line = text.split("\n").find((entry) => entry.startsWith(`${name}: `));
  return line === undefined ? undefined : Number(line.slice(name.length + 2));
}

interface RawExchange {
  statusLine: string;
  headers: Map<string, string>;
  body: string;
  /** The proxy closed the connection after the response. */
  closed: boolean;
}

/**
 * One HTTP/1.1 request on a raw socket: the head announces `contentLength`, then `sent` bytes of
 * body go out and nothing more; resolves with the response once it is complete (by its
 * content-length) and the connection closed, or 2 s after it completed if it stays open; rejects
 * when no whole response came within 30 s.
 */
function rawHttp1(proxy: DevProxy, path: string, contentLength: number, sent: number, extraHead = ""): Promise<RawExchange> {
  const { port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), "127.0.0.1");
    let received = Buffer.alloc(0);
    let closed = false;
    let settleTimer: NodeJS.Timeout | undefined;
    const parse = (): RawExchange | undefined => {
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return undefined;
      const [statusLine, ...lines] = received.subarray(0, end).toString("latin1").split("\r\n");
      const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
      const body = received.subarray(end + 4);
      if (body.length < Number(headers.get("content-length") ?? 0)) return undefined;
      return { statusLine, headers, body: body.toString(), closed };
    };
    const giveUp = setTimeout(() => finish(), 30_000);
    const finish = (): void => {
      clearTimeout(giveUp);
      clearTimeout(settleTimer);
      const exchange = parse();
      socket.destroy();
      if (exchange === undefined) reject(new Error(`incomplete response: ${JSON.stringify(received.toString("latin1"))}`));
      else resolve({ ...exchange, closed });
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parse() !== undefined && settleTimer === undefined) settleTimer = setTimeout(finish, 2_000);
    });
    socket.on("end", () => {
      closed = true;
      finish();
    });
    socket.on("error", reject);
    socket.write(`POST ${path} HTTP/1.1\r\nhost: proxy\r\ncontent-length: ${contentLength}\r\n${extraHead}\r\n`);
    socket.write(Buffer.alloc(sent, "x"));
  });
}

interface H2Exchange {
  status: number | undefined;
  headers: http2.IncomingHttpHeaders;
  body: string;
  rstCode: number | undefined;
}

/**
 * One h2c request announcing `contentLength` of which `sent` bytes go out (the stream stays open
 * if fewer); resolves when the stream closes, rejects after 30 s so a hang fails the test.
 */
function h2Request(proxy: DevProxy, path: string, contentLength: number, sent: number, extra: http2.OutgoingHttpHeaders = {}): Promise<H2Exchange> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(proxy.url);
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`the h2 stream to ${path} never closed`));
    }, 30_000);
    client.on("error", reject);
    const stream = client.request({ ":method": "POST", ":path": path, "content-length": String(contentLength), ...extra });
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (received) => (headers = received));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", () => {});
    stream.on("close", () => {
      clearTimeout(timer);
      const result = { status: headers[":status"] as number | undefined, headers, body: Buffer.concat(chunks).toString(), rstCode: stream.rstCode };
      client.close();
      resolve(result);
    });
    if (sent === contentLength) stream.end(Buffer.alloc(sent, "x"));
    else stream.write(Buffer.alloc(sent, "x"));
  });
}

describe("dev proxy: a buffering filter's request body past the buffer limit", () => {
  const http1Over = async (concurrency: number): Promise<void> => {
    const { proxy } = await startProxy([wasmFilter(HTTP_BODY)], (config) => {
      config.bufferLimitBytes = 1024;
      config.concurrency = concurrency;
    });
    try {
      const path = `/h1-over-${concurrency}`;
      const exchange = await rawHttp1(proxy, path, 4096, 2048);
      assert.equal(exchange.statusLine, "HTTP/1.1 413 Payload Too Large");
      assert.deepEqual([...exchange.headers.keys()].sort(), ["connection", "content-length", "content-type", "date", "server"]);
      assert.equal(exchange.headers.get("content-length"), "17");
      assert.equal(exchange.headers.get("content-type"), "text/plain");
      assert.equal(exchange.headers.get("server"), "envoy");
      assert.equal(exchange.headers.get("connection"), "close");
      assert.equal(exchange.body, "Payload Too Large");
      assert.equal(exchange.closed, true);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_rq_too_large"), 1);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_rq_4xx"), 1);
      // The filter continued the headers, so the upstream request had started; the 413 abandoned
      // it (before it even connected, or mid-body): no request reached the upstream whole.
      assert.equal(seen.bodies.has(path), false);
    } finally {
      await proxy.close();
    }
  };
  it("HTTP/1.1 (--concurrency 1): 413 Payload Too Large, connection: close, the stat, no body upstream", () => http1Over(1));
  it("HTTP/1.1 (--concurrency 2): 413 Payload Too Large, connection: close, the stat, no body upstream", () => http1Over(2));

  it("HTTP/1.1: a body at the limit passes, rewritten by the filter, on a connection kept alive", async () => {
    const { proxy } = await startProxy([wasmFilter(HTTP_BODY)], (config) => (config.bufferLimitBytes = 1024));
    try {
      const response = await http1Request(`${proxy.url}/h1-at-limit`, {
        method: "POST",
        headers: { "content-length": "1024", "buffer-operation": "append" },
        body: ["y".repeat(1024)],
      });
      assert.equal(response.status, 200);
      assert.equal(response.body, `got ${1024 + "[this is appended body]".length}`);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_rq_too_large"), undefined);
      const exchange = await rawHttp1(proxy, "/h1-at-limit-raw", 1024, 1024);
      assert.equal(exchange.statusLine, "HTTP/1.1 200 OK");
      // A kept-alive HTTP/1.1 response carries no `connection` header, as from Envoy.
      assert.equal(exchange.headers.get("connection"), undefined);
      assert.equal(exchange.closed, false);
    } finally {
      await proxy.close();
    }
  });

  const h2Over = async (concurrency: number): Promise<void> => {
    const { proxy } = await startProxy([wasmFilter(HTTP_BODY)], (config) => {
      config.bufferLimitBytes = 1024;
      config.concurrency = concurrency;
    });
    try {
      const exchange = await h2Request(proxy, `/h2-over-${concurrency}`, 4096, 2048);
      assert.equal(exchange.status, 413);
      assert.equal(exchange.headers["content-length"], "17");
      assert.equal(exchange.headers["content-type"], "text/plain");
      assert.equal(exchange.headers.connection, undefined);
      assert.equal(exchange.body, "Payload Too Large");
      assert.equal(exchange.rstCode, http2.constants.NGHTTP2_NO_ERROR);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_rq_too_large"), 1);
      const under = await h2Request(proxy, `/h2-under-${concurrency}`, 1000, 1000, { "buffer-operation": "replace" });
      assert.equal(under.status, 200);
      assert.equal(under.body, `got ${"[this is replaced body]".length}`);
    } finally {
      await proxy.close();
    }
  };
  it("h2c (--concurrency 1): 413 Payload Too Large, then the stream is reset with NO_ERROR", () => h2Over(1));
  it("h2c (--concurrency 2): 413 Payload Too Large, then the stream is reset with NO_ERROR", () => h2Over(2));

  it("the default limit is Envoy's 1 MiB", async () => {
    const { proxy } = await startProxy([wasmFilter(HTTP_BODY)]);
    try {
      const exchange = await rawHttp1(proxy, "/default-over", 2 * 1024 * 1024, 1024 * 1024 + 1);
      assert.equal(exchange.statusLine, "HTTP/1.1 413 Payload Too Large");
    } finally {
      await proxy.close();
    }
  });

  it("a streaming filter (StopIterationAndWatermark) past the limit gets no error, only flow control", async () => {
    const { proxy } = await startProxy([wasmFilter(WATERMARK)], (config) => {
      config.bufferLimitBytes = 1024;
      config.routes[0].timeoutMs = 300;
    });
    try {
      // The filter never continues: the body stays held, so the route timeout answers.
      const exchange = await rawHttp1(proxy, "/watermark", 4096, 4096);
      assert.equal(exchange.statusLine, "HTTP/1.1 504 Gateway Timeout");
      assert.equal(exchange.body, "upstream request timeout");
      assert.equal(await stat(proxy, "http.ingress_http.downstream_rq_too_large"), undefined);
      // Flow control instead: reading the client paused once, never resumed (the filter holds on).
      assert.equal(await stat(proxy, "http.ingress_http.downstream_flow_control_paused_reading_total"), 1);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_flow_control_resumed_reading_total"), undefined);
    } finally {
      await proxy.close();
    }
  });
});

describe("dev proxy: flow control for a filter that holds a streaming body", () => {
  const heldDuringCallout = async (concurrency: number): Promise<void> => {
    const HTTP_AUTH_RANDOM = new URL("../../examples/http_auth_random/build/http_auth_random.wasm", import.meta.url).pathname;
    let proxy: DevProxy | undefined;
    let paused = false;
    // Polls the proxy's stat (bounded by the test's own 30 s) until reading the client paused.
    const watch = setInterval(() => {
      if (proxy === undefined || paused) return;
      stat(proxy, "http.ingress_http.downstream_flow_control_paused_reading_total").then(
        (value) => (paused = value === 1),
        () => {},
      );
    }, 20);
    // The auth service answers once the proxy paused reading the client, so the body is held
    // past the limit whatever the machine's speed; its body "allow" hashes to access granted.
    const auth = await startUpstream((req, res) => {
      req.resume();
      const answer = async (): Promise<void> => {
        await until(() => proxy !== undefined, "the proxy");
        await until(() => paused, "reading the client paused");
        res.end("allow");
      };
      answer().catch(() => res.destroy());
    });
    try {
      ({ proxy } = await startProxy([{ ...wasmFilter(HTTP_AUTH_RANDOM), name: "auth" }], (config) => {
        config.bufferLimitBytes = 1024;
        config.concurrency = concurrency;
        config.clusters.push(clusterFromUrl("httpbin", auth.url, "test"));
      }));
      const body = "z".repeat(64 * 1024);
      const response = await Promise.race([
        http1Request(`${proxy.url}/flow`, { method: "POST", headers: { "content-length": String(body.length) }, body: [body] }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no response: the client stayed paused")), 30_000)),
      ]);
      assert.equal(response.status, 200);
      assert.equal(response.body, `got ${64 * 1024}`);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_flow_control_paused_reading_total"), 1);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_flow_control_resumed_reading_total"), 1);
    } finally {
      clearInterval(watch);
      await proxy?.close();
      await auth.close();
    }
  };
  it("http_auth_random holds a 64 KiB body while its callout runs: reading the client pauses past the limit and resumes on continue; the whole body reaches the upstream", () =>
    heldDuringCallout(1));
  it("the same with filter workers (--concurrency 2): the worker's flow control reaches the client's connection", () => heldDuringCallout(2));
});

describe("dev proxy: a buffering filter's response body past the buffer limit", () => {
  const responseReset = async (concurrency: number): Promise<void> => {
    const { proxy } = await startProxy([wasmFilter(HTTP_BODY)], (config) => {
      config.bufferLimitBytes = 1024;
      config.concurrency = concurrency;
    });
    try {
      const h1 = await http1Request(`${proxy.url}/big/4096`, { headers: { "content-length": "0", "buffer-replace-at": "response" } }).then(
        () => "completed",
        (error: Error) => error.message,
      );
      assert.equal(h1, "aborted");
      const h2 = await new Promise<{ status: unknown; rstCode: number; body: number }>((resolve, reject) => {
        const client = http2.connect(proxy.url);
        const timer = setTimeout(() => {
          client.destroy();
          reject(new Error("the h2 stream never closed"));
        }, 30_000);
        client.on("error", reject);
        const stream = client.request({ ":path": "/big/4096", "content-length": "0", "buffer-replace-at": "response" });
        let status: unknown;
        let body = 0;
        stream.on("response", (headers) => (status = headers[":status"]));
        stream.on("data", (chunk: Buffer) => (body += chunk.length));
        stream.on("error", () => {});
        stream.on("close", () => {
          clearTimeout(timer);
          resolve({ status, rstCode: stream.rstCode, body });
          client.close();
        });
        stream.end();
      });
      assert.equal(h2.status, 200);
      assert.equal(h2.body, 0);
      assert.notEqual(h2.rstCode, http2.constants.NGHTTP2_NO_ERROR);
      assert.equal(await stat(proxy, "http.ingress_http.rs_too_large"), 2);
    } finally {
      await proxy.close();
    }
  };
  it("response headers already sent (--concurrency 1): the stream is reset, stat rs_too_large", () => responseReset(1));
  it("response headers already sent (--concurrency 2): the stream is reset, stat rs_too_large", () => responseReset(2));

  it("response headers still held by the filter: 500 Internal Server Error, stat rs_too_large", async () => {
    const { proxy } = await startProxy([wasmFilter(RESPONSE_HEADERS_BUFFER)], (config) => (config.bufferLimitBytes = 1024));
    try {
      const response = await http1Request(`${proxy.url}/big/4096?held`);
      assert.equal(response.status, 500);
      assert.equal(response.headers["content-length"], "21");
      assert.equal(response.headers["content-type"], "text/plain");
      assert.equal(response.headers.server, "envoy");
      assert.equal(response.body, "Internal Server Error");
      assert.equal(await stat(proxy, "http.ingress_http.rs_too_large"), 1);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_rq_5xx"), 1);
      // Nobody reads the rest of the upstream response: the proxy drops the upstream request.
      await until(() => seen.abandoned.includes("/big/4096?held"), "the upstream response abandoned");
    } finally {
      await proxy.close();
    }
  });

  it("the upstream response the router abandoned after the 500 is no reset of the client's stream: the connection stays open, no downstream_rq_rx_reset", async () => {
    const { proxy } = await startProxy([wasmFilter(RESPONSE_HEADERS_BUFFER)], (config) => (config.bufferLimitBytes = 1024));
    try {
      const exchange = await rawHttp1(proxy, "/big/4096?kept", 0, 0);
      assert.equal(exchange.statusLine, "HTTP/1.1 500 Internal Server Error");
      assert.equal(exchange.body, "Internal Server Error");
      assert.equal(exchange.closed, false);
      await until(() => seen.abandoned.includes("/big/4096?kept"), "the upstream response abandoned");
      assert.equal(await stat(proxy, "http.ingress_http.downstream_rq_rx_reset"), undefined);
    } finally {
      await proxy.close();
    }
  });
});

/** What an h2c upstream saw of each stream, by path. */
interface H2UpstreamRecord {
  /** Paths whose response body the upstream wrote whole (the proxy read it all). */
  written: Set<string>;
  /** RST_STREAM codes of the streams the proxy reset, by path. */
  resetCodes: Map<string, number>;
}

/**
 * An h2c upstream: `/flood` answers 4 MiB at once (more than any flow control window, so its
 * write completes only if the proxy keeps reading); `/big/<n>` announces n bytes and sends half,
 * the rest never comes while the test runs.
 */
async function startH2Upstream(): Promise<{ url: string; record: H2UpstreamRecord; close: () => Promise<void> }> {
  const record: H2UpstreamRecord = { written: new Set(), resetCodes: new Map() };
  const server = http2.createServer();
  // Destroyed at close, so a stream the proxy left paused does not keep the server open.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers) => {
    const path = String(headers[":path"]);
    stream.resume();
    stream.on("error", () => {});
    stream.on("close", () => {
      if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) record.resetCodes.set(path, stream.rstCode);
    });
    const big = /^\/big\/(\d+)$/.exec(path);
    if (path === "/flood") {
      stream.respond({ ":status": 200, "content-type": "application/octet-stream" });
      stream.end(Buffer.alloc(4 * 1024 * 1024, "f"), () => record.written.add(path));
    } else if (big) {
      stream.respond({ ":status": 200, "content-length": big[1] });
      stream.write(Buffer.alloc(Number(big[1]) >> 1, "a"));
    } else {
      stream.respond({ ":status": 200 });
      stream.end("ok");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    record,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls an admin stat (every 20 ms, for at most 30 s) until it has `value`. */
async function untilStat(proxy: DevProxy, name: string, value: number): Promise<void> {
  const giveUp = Date.now() + 30_000;
  while ((await stat(proxy, name)) !== value) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${name} to be ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("dev proxy: the buffer limit and flow control on an HTTP/2 cluster", () => {
  const withH2Cluster = (url: string, concurrency = 1) => (config: DevProxyConfig) => {
    config.bufferLimitBytes = 1024;
    config.concurrency = concurrency;
    const cluster = clusterFromUrl("h2web", url, "test");
    cluster.http2 = true;
    config.clusters.push(cluster);
    config.routes = [{ prefix: "/", cluster: "h2web", timeoutMs: 30_000 }];
  };

  it("response headers held by the filter: 500 Internal Server Error, the upstream stream cancelled, the client's connection kept", async () => {
    const h2 = await startH2Upstream();
    const { proxy } = await startProxy([wasmFilter(RESPONSE_HEADERS_BUFFER)], withH2Cluster(h2.url));
    try {
      const exchange = await rawHttp1(proxy, "/big/4096", 0, 0);
      assert.equal(exchange.statusLine, "HTTP/1.1 500 Internal Server Error");
      assert.equal(exchange.body, "Internal Server Error");
      assert.equal(exchange.closed, false);
      assert.equal(await stat(proxy, "http.ingress_http.rs_too_large"), 1);
      // Nobody reads the rest: the router resets the upstream stream (CANCEL), and that reset
      // is its own doing, not a reset of the client's stream.
      await until(() => h2.record.resetCodes.has("/big/4096"), "the upstream stream reset");
      assert.equal(h2.record.resetCodes.get("/big/4096"), http2.constants.NGHTTP2_CANCEL);
      assert.equal(await stat(proxy, "http.ingress_http.downstream_rq_rx_reset"), undefined);
    } finally {
      await proxy.close();
      await h2.close();
    }
  });

  it("a filter holding the response body with StopIterationAndWatermark: reading the HTTP/2 upstream stream pauses, its 4 MiB stay unsent", async () => {
    const h2 = await startH2Upstream();
    const { proxy } = await startProxy([wasmFilter(RESPONSE_WATERMARK)], withH2Cluster(h2.url));
    const client = connect(Number(new URL(proxy.url).port), "127.0.0.1");
    try {
      client.on("error", () => {});
      client.resume();
      client.write("GET /flood HTTP/1.1\r\nhost: proxy\r\n\r\n");
      await untilStat(proxy, "cluster.h2web.upstream_flow_control_paused_reading_total", 1);
      // Without the pause the proxy reads the 4 MiB in milliseconds; paused, the upstream's
      // write cannot complete past the stream's flow control window however long it waits.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.equal(h2.record.written.has("/flood"), false);
      assert.equal(await stat(proxy, "cluster.h2web.upstream_flow_control_resumed_reading_total"), undefined);
    } finally {
      client.destroy();
      await proxy.close();
      await h2.close();
    }
  });

  it("the same with filter workers (--concurrency 2): the worker's flow control reaches the HTTP/2 upstream stream", async () => {
    const h2 = await startH2Upstream();
    const { proxy } = await startProxy([wasmFilter(RESPONSE_WATERMARK)], withH2Cluster(h2.url, 2));
    const client = connect(Number(new URL(proxy.url).port), "127.0.0.1");
    try {
      client.on("error", () => {});
      client.resume();
      client.write("GET /flood HTTP/1.1\r\nhost: proxy\r\n\r\n");
      // The worker decides one message after the main thread read the chunk, so what was read by
      // then is not asserted here; the pause itself is.
      await untilStat(proxy, "cluster.h2web.upstream_flow_control_paused_reading_total", 1);
      assert.equal(await stat(proxy, "cluster.h2web.upstream_flow_control_resumed_reading_total"), undefined);
    } finally {
      client.destroy();
      await proxy.close();
      await h2.close();
    }
  });
});
