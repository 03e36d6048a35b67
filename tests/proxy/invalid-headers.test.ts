/**
 * Headers a filter made invalid (issue #12, faults 1 and 7): each ends its own stream or call the
 * way Envoy ends it, and the dev proxy keeps serving.
 *
 * Envoy's behaviour, read in its source:
 * - Upstream request head: `RequestEncoderImpl::encodeHeaders` (source/common/http/http1/codec_impl.cc)
 *   runs `HeaderUtility::checkRequiredRequestHeaders` and `checkValidRequestHeaders`
 *   (source/common/http/header_utility.cc: "missing required header: :path", "invalid header
 *   name: <key>", "invalid header value for: <key>", the key JSON-escaped); on failure
 *   `UpstreamCodecFilter::decodeHeaders` (source/common/router/upstream_codec_filter.cc) sends a
 *   local reply 503 with the message as body and details
 *   `filter_removed_required_request_headers{<message, whitespace as _>}`.
 * - `proxy_http_call` checks only cluster, timeout and the presence of :path/:method/:authority
 *   (source/extensions/common/wasm/context.cc `Context::httpCall`); invalid values reach the same
 *   codec check, so the call is answered by that 503.
 * - Trailers: the HTTP/1 codecs send none unless `enable_trailers` (`encodeTrailersBase`).
 * - `content-length` is an inline header: a second value is appended with `,`
 *   (`HeaderMapImpl::insertByKey` / `appendToHeader`, source/common/http/header_map_impl.cc).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, connect, type AddressInfo, type Socket } from "node:net";
import { request as httpRequest } from "node:http";
import { connect as h2connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defaultConfig, type DevProxyConfig, type FailurePolicy } from "../../src/proxy/config/dev-proxy-config";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { startDevProxy, type DevProxy } from "../../src/proxy/dev-proxy";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { codecRejectionReply, requestHeadersProblem } from "../../src/proxy/header-validation";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { createTestHost } from "../../src/testing";
import { http1Request, LogCapture, startUpstream, until } from "./proxy-test-helpers";
import { compileWat } from "./wat-filters";

const dir = mkdtempSync(join(tmpdir(), "pwas-invalid-headers-"));
let files = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

interface ProxyOptions {
  failurePolicy?: FailurePolicy;
  concurrency?: number;
  adjust?: (config: DevProxyConfig) => void;
}

async function startWasmProxy(wasm: Uint8Array, options: ProxyOptions = {}): Promise<{ proxy: DevProxy; logs: LogCapture }> {
  const wasmPath = join(dir, `filter-${files++}.wasm`);
  writeFileSync(wasmPath, wasm);
  const config = defaultConfig();
  config.listener.port = 0;
  config.admin = { host: "127.0.0.1", port: 0 };
  config.concurrency = options.concurrency ?? 1;
  config.filters = [
    {
      name: "faulty",
      rootId: "",
      vmId: "",
      wasmPath,
      pluginConfiguration: Buffer.alloc(0),
      vmConfiguration: Buffer.alloc(0),
      failurePolicy: options.failurePolicy ?? "FAIL_CLOSED",
      allowOnHeadersStopIteration: false,
    },
  ];
  options.adjust?.(config);
  const logs = new LogCapture();
  const proxy = await startDevProxy(config, {
    logger: new ProxyLogger({ level: config.logLevel, output: logs, colour: false }),
    buildFilters: buildWasmFilters,
  });
  return { proxy, logs };
}

/** Text as a WAT data string, byte for byte (latin1), so CR, LF and NUL get in unchanged. */
function wat(text: string): string {
  return [...Buffer.from(text, "latin1")].map((byte) => `\\${byte.toString(16).padStart(2, "0")}`).join("");
}

/** Proxy-Wasm pairs bytes (count, sizes, NUL-terminated names and values) as a WAT data string. */
function watPairs(pairs: [string, string][]): { data: string; size: number } {
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
  u32(pairs.length);
  for (const [name, value] of pairs) {
    u32(Buffer.byteLength(name, "latin1"));
    u32(Buffer.byteLength(value, "latin1"));
  }
  for (const [name, value] of pairs) parts.push(...Buffer.from(name, "latin1"), 0, ...Buffer.from(value, "latin1"), 0);
  return { data: parts.map((byte) => `\\${byte.toString(16).padStart(2, "0")}`).join(""), size: parts.length };
}

const COMMON = `
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
`;

type HeaderCallback = "proxy_on_request_headers" | "proxy_on_request_trailers" | "proxy_on_response_headers" | "proxy_on_response_trailers";
const MAP_OF: Record<HeaderCallback, number> = {
  proxy_on_request_headers: 0,
  proxy_on_request_trailers: 1,
  proxy_on_response_headers: 2,
  proxy_on_response_trailers: 3,
};

/**
 * A filter that, on streams whose path starts with `/b`, writes `name: value` (replace or add)
 * into the map of `callback`; every other stream passes unchanged (so the next request shows
 * the proxy still serves).
 */
function headerWriter(callback: HeaderCallback, name: string, value: string, op: "replace" | "add" = "replace"): Uint8Array {
  const write = `(drop (call $write (i32.const ${MAP_OF[callback]}) (i32.const 1024) (i32.const ${name.length}) (i32.const 2048) (i32.const ${value.length})))`;
  const params = callback.endsWith("headers") ? "(param i32 i32 i32)" : "(param i32 i32)";
  const other =
    callback === "proxy_on_request_headers"
      ? ""
      : `(func (export "${callback}") ${params} (result i32)
          (if (global.get $faulty) (then ${write}))
          (i32.const 0))`;
  return compileWat(`(module
    (import "env" "proxy_${op}_header_map_value" (func $write (param i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
    ${COMMON}
    (data (i32.const 100) ":path")
    (data (i32.const 1024) "${wat(name)}")
    (data (i32.const 2048) "${wat(value)}")
    (global $faulty (mut i32) (i32.const 0))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $get (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 200) (i32.const 204)))
      (global.set $faulty (i32.eq (i32.load8_u (i32.add (i32.load (i32.const 200)) (i32.const 1))) (i32.const 98)))
      ${callback === "proxy_on_request_headers" ? `(if (global.get $faulty) (then ${write}))` : ""}
      (i32.const 0))
    ${other}
  )`);
}

/**
 * Calls cluster `auth` with `headers` (and `trailers`, body `hi` when given) from the request
 * headers and pauses; answers the request locally with the callout's status as its status and the
 * callout's body as its body (a failed callout: 599, empty).
 */
function calloutWith(headers: [string, string][], trailers: [string, string][] = []): Uint8Array {
  const headerPairs = watPairs(headers);
  const trailerPairs = watPairs(trailers);
  const body = trailers.length > 0 ? 2 : 0;
  return compileWat(`(module
    (import "env" "proxy_http_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
    (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_get_buffer_bytes" (func $bytes (param i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    ${COMMON}
    (data (i32.const 100) "auth")
    (data (i32.const 110) ":status")
    (data (i32.const 120) "hi")
    (data (i32.const 1024) "${headerPairs.data}")
    (data (i32.const 4096) "${trailerPairs.data}")
    (global $stream (mut i32) (i32.const 0))
    (func $digit (param $at i32) (result i32)
      (i32.sub (i32.load8_u (local.get $at)) (i32.const 48)))
    (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
      (global.set $stream (local.get $id))
      (i32.store (i32.const 300) (call $call (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const ${headerPairs.size})
        (i32.const 120) (i32.const ${body}) (i32.const 4096) (i32.const ${trailers.length > 0 ? trailerPairs.size : 0})
        (i32.const 5000) (i32.const 304)))
      (i32.const 1))
    (func (export "proxy_on_http_call_response") (param i32 i32) (param $headers i32) (param $body i32) (param i32)
      (local $status i32)
      (drop (call $effective (global.get $stream)))
      (if (i32.eqz (local.get $headers))
        (then
          (drop (call $reply (i32.const 599) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1)))
          (return)))
      (drop (call $get (i32.const 6) (i32.const 110) (i32.const 7) (i32.const 200) (i32.const 204)))
      (local.set $status (i32.add (i32.add
        (i32.mul (call $digit (i32.load (i32.const 200))) (i32.const 100))
        (i32.mul (call $digit (i32.add (i32.load (i32.const 200)) (i32.const 1))) (i32.const 10)))
        (call $digit (i32.add (i32.load (i32.const 200)) (i32.const 2)))))
      (drop (call $bytes (i32.const 4) (i32.const 0) (local.get $body) (i32.const 208) (i32.const 212)))
      (drop (call $reply (local.get $status) (i32.const 0) (i32.const 0) (i32.load (i32.const 208)) (i32.load (i32.const 212))
        (i32.const 0) (i32.const 0) (i32.const -1))))
  )`);
}

/** One raw HTTP/1.1 exchange (`Connection: close`): everything the proxy wrote, as latin1. */
function rawExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let out = "";
    socket.on("data", (chunk: Buffer) => (out += chunk.toString("latin1")));
    socket.on("close", () => resolve(out));
    socket.on("error", reject);
  });
}

/** An HTTP/1.1 GET whose outcome is a response or a connection error (a reset stream). */
function getOutcome(url: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    });
    req.on("error", (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

/** The echo upstream's answer for a request that reached it: its path. */
function echoedPath(body: string): string {
  return (JSON.parse(body) as { path: string }).path;
}

describe("requestHeadersProblem: Envoy's checks of an upstream request head", () => {
  const base: [string, string][] = [
    [":authority", "example.com"],
    [":path", "/ok"],
    [":method", "GET"],
    [":scheme", "http"],
  ];
  const withEntry = (name: string, value: string): [string, string][] =>
    base.some(([key]) => key === name) ? base.map(([key, old]) => [key, key === name ? value : old]) : [...base, [name, value]];

  it("names the first entry the codec refuses, in Envoy's words", () => {
    assert.equal(requestHeadersProblem(base), undefined);
    assert.equal(requestHeadersProblem(withEntry("x-bad", "a\r\nb")), "invalid header value for: x-bad");
    assert.equal(requestHeadersProblem(withEntry("x-bad", "a\nb")), "invalid header value for: x-bad");
    assert.equal(requestHeadersProblem(withEntry("x-bad", "a\0b")), "invalid header value for: x-bad");
    assert.equal(requestHeadersProblem(withEntry("x bad", "1")), "invalid header name: x bad");
    assert.equal(requestHeadersProblem(withEntry("x-bad\r\n", "1")), "invalid header name: x-bad\\r\\n");
    assert.equal(requestHeadersProblem(withEntry(":authority", "a\r\nb")), "invalid header value for: :authority");
    // Tab, SP and obs-text are legal in values (Envoy's headerValueIsValid).
    assert.equal(requestHeadersProblem(withEntry("x-ok", "a\tb c\xe9")), undefined);
  });

  it("a :method that is no token and a :path with SP are refused too (node:http cannot write them)", () => {
    assert.equal(requestHeadersProblem(withEntry(":method", "GE T")), "invalid header value for: :method");
    assert.equal(requestHeadersProblem(withEntry(":path", "/a b")), "invalid header value for: :path");
  });

  it("required pseudo-headers come first (checkRequiredRequestHeaders)", () => {
    assert.equal(requestHeadersProblem(base.filter(([name]) => name !== ":method")), "missing required header: :method");
    assert.equal(
      requestHeadersProblem([...base.filter(([name]) => name !== ":path"), ["x-bad", "\n"]]),
      "missing required header: :path",
    );
    assert.equal(
      requestHeadersProblem([[":method", "CONNECT"], ["x-a", "1"]]),
      "missing required header: :authority",
    );
  });

  it("the local reply: 503, the message as body, Envoy's details with whitespace as _", () => {
    const reply = codecRejectionReply("invalid header value for: x-bad");
    assert.equal(reply.status, 503);
    assert.equal(reply.body.toString(), "invalid header value for: x-bad");
    assert.equal(reply.details, "filter_removed_required_request_headers{invalid_header_value_for:_x-bad}");
  });
});

describe("a filter writes an invalid request header", () => {
  const faults: { name: string; value: string; message: string }[] = [
    { name: "x-bad", value: "a\r\nb", message: "invalid header value for: x-bad" },
    { name: "x bad", value: "1", message: "invalid header name: x bad" },
    { name: ":method", value: "GE T", message: "invalid header value for: :method" },
    { name: ":path", value: "/a b", message: "invalid header value for: :path" },
    { name: ":authority", value: "a\r\nb", message: "invalid header value for: :authority" },
  ];
  for (const { name, value, message } of faults) {
    it(`${JSON.stringify(name)}: ${JSON.stringify(value)} gets Envoy's 503 "${message}" and the next request is served`, async () => {
      const { proxy } = await startWasmProxy(headerWriter("proxy_on_request_headers", name, value));
      try {
        const refused = await http1Request(`${proxy.url}/bad`);
        assert.equal(refused.status, 503);
        assert.equal(refused.body, message);
        assert.equal(refused.headers["content-type"], "text/plain");
        assert.equal(refused.headers["content-length"], String(Buffer.byteLength(message)));
        const next = await http1Request(`${proxy.url}/next`);
        assert.equal(next.status, 200);
        assert.equal(echoedPath(next.body), "/next");
      } finally {
        await proxy.close();
      }
    });
  }

  for (const failurePolicy of ["FAIL_OPEN", "FAIL_CLOSED"] as const) {
    it(`${failurePolicy}: the process lives, the upstream never sees the request, stats count the 503`, async () => {
      const seen: string[] = [];
      const upstream = await startUpstream((req, res) => {
        seen.push(req.url ?? "");
        res.end("upstream");
      });
      const { proxy } = await startWasmProxy(headerWriter("proxy_on_request_headers", "x-bad", "a\r\nb"), {
        failurePolicy,
        adjust: (config) => {
          config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
          config.echoUpstream = false;
        },
      });
      try {
        for (let i = 0; i < 3; i++) {
          const refused = await http1Request(`${proxy.url}/bad${i}`);
          assert.equal(refused.status, 503);
          assert.equal(refused.body, "invalid header value for: x-bad");
        }
        const next = await http1Request(`${proxy.url}/fine`);
        assert.equal(next.status, 200);
        assert.equal(next.body, "upstream");
        assert.deepEqual(seen, ["/fine"]);
        const stats = (await (await fetch(`${proxy.adminUrl}/stats`)).text()).split("\n");
        assert.ok(stats.includes("http.ingress_http.downstream_rq_5xx: 3"), stats.join("\n"));
      } finally {
        await proxy.close();
        await upstream.close();
      }
    });
  }

  it("--concurrency 2 (filters in worker threads): answered with the 503, then served", async () => {
    const { proxy } = await startWasmProxy(headerWriter("proxy_on_request_headers", ":authority", "a\r\nb"), { concurrency: 2 });
    try {
      for (let i = 0; i < 4; i++) {
        const refused = await http1Request(`${proxy.url}/bad${i}`);
        assert.equal(refused.status, 503);
        assert.equal(refused.body, "invalid header value for: :authority");
        const next = await http1Request(`${proxy.url}/next${i}`);
        assert.equal(next.status, 200);
        assert.equal(echoedPath(next.body), `/next${i}`);
      }
    } finally {
      await proxy.close();
    }
  });
});

describe("a filter writes an invalid trailer", () => {
  it("request trailers: the request ends without them, the upstream answers, the error is logged", async () => {
    const seen: string[] = [];
    const upstream = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        seen.push(`${req.url} ${Buffer.concat(chunks).toString()} trailers=${JSON.stringify(req.trailers)}`);
        res.end("upstream");
      });
    });
    const { proxy, logs } = await startWasmProxy(headerWriter("proxy_on_request_trailers", "x-bad", "a\r\nb", "add"), {
      adjust: (config) => {
        config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
        config.echoUpstream = false;
      },
    });
    try {
      const response = await rawExchange(
        proxy.url,
        "POST /bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
          "5\r\nhello\r\n0\r\nx-good: 1\r\n\r\n",
      );
      assert.match(response, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(response.endsWith("upstream") || response.includes("\r\n\r\n8\r\nupstream\r\n0\r\n\r\n"), response);
      assert.deepEqual(seen, ["/bad hello trailers={}"]);
      assert.ok(logs.lines.some((line) => line.endsWith("request trailers dropped: invalid header value for: x-bad")), logs.lines.join("\n"));
      const next = await http1Request(`${proxy.url}/fine`);
      assert.equal(next.status, 200);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("response trailers: the response ends complete without them, the error is logged", async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/plain", trailer: "x-good" });
      res.write("body");
      res.addTrailers({ "x-good": "1" });
      res.end();
    });
    const { proxy, logs } = await startWasmProxy(headerWriter("proxy_on_response_trailers", "x-bad", "a\r\nb", "add"), {
      adjust: (config) => {
        config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
        config.echoUpstream = false;
      },
    });
    try {
      const response = await http1Request(`${proxy.url}/bad`);
      assert.equal(response.status, 200);
      assert.equal(response.body, "body");
      assert.deepEqual(response.trailers, {});
      assert.ok(logs.lines.some((line) => line.endsWith("response trailers dropped: invalid header value for: x-bad")), logs.lines.join("\n"));
      const next = await http1Request(`${proxy.url}/fine`);
      assert.equal(next.status, 200);
      assert.deepEqual(next.trailers, { "x-good": "1" });
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});

describe("a filter writes an invalid response trailer, h2c downstream", () => {
  it("the stream ends with its body and without the trailers; the next stream is served", async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/plain", trailer: "x-good" });
      res.write("body");
      res.addTrailers({ "x-good": "1" });
      res.end();
    });
    const { proxy, logs } = await startWasmProxy(headerWriter("proxy_on_response_trailers", "x bad", "1", "add"), {
      adjust: (config) => {
        config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
        config.echoUpstream = false;
      },
    });
    const session = h2connect(proxy.url);
    try {
      const exchange = (path: string): Promise<{ status?: number; body: string; trailers: Record<string, unknown>; code?: number }> =>
        new Promise((resolve) => {
          const stream = session.request({ ":path": path });
          let status: number | undefined;
          let trailers: Record<string, unknown> = {};
          const chunks: Buffer[] = [];
          stream.on("response", (headers) => (status = Number(headers[":status"])));
          stream.on("trailers", (received) => (trailers = { ...received }));
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("error", () => {});
          stream.on("close", () => resolve({ status, body: Buffer.concat(chunks).toString(), trailers, code: stream.rstCode }));
          stream.end();
        });
      const dropped = await exchange("/bad");
      assert.equal(dropped.status, 200);
      assert.equal(dropped.body, "body");
      assert.deepEqual(dropped.trailers, {});
      assert.equal(dropped.code, 0);
      assert.ok(logs.lines.some((line) => line.endsWith("response trailers dropped: invalid header name: x bad")), logs.lines.join("\n"));
      const next = await exchange("/next");
      assert.equal(next.status, 200);
      assert.equal(next.trailers["x-good"], "1");
    } finally {
      session.close();
      await proxy.close();
      await upstream.close();
    }
  });
});

describe("a filter writes an invalid response header", () => {
  it("in its local reply (proxy_send_local_response): the stream is reset, the next request served", async () => {
    const headers = watPairs([["x-bad", "a\r\nb"]]);
    const filter = compileWat(`(module
      (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
      ${COMMON}
      (data (i32.const 100) ":path")
      (data (i32.const 1024) "${headers.data}")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $get (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 200) (i32.const 204)))
        (if (i32.eq (i32.load8_u (i32.add (i32.load (i32.const 200)) (i32.const 1))) (i32.const 98))
          (then (drop (call $reply (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
            (i32.const 1024) (i32.const ${headers.size}) (i32.const -1)))))
        (i32.const 0))
    )`);
    const { proxy, logs } = await startWasmProxy(filter);
    try {
      const outcome = await getOutcome(`${proxy.url}/bad`);
      assert.ok("error" in outcome, JSON.stringify(outcome));
      assert.ok(logs.lines.some((line) => line.includes("invalid response headers:")), logs.lines.join("\n"));
      const next = await http1Request(`${proxy.url}/next`);
      assert.equal(next.status, 200);
      assert.equal(echoedPath(next.body), "/next");
    } finally {
      await proxy.close();
    }
  });

  it("HTTP/1.1: the stream is reset, the error logged, and the next request served", async () => {
    const { proxy, logs } = await startWasmProxy(headerWriter("proxy_on_response_headers", "x-bad", "a\r\nb", "add"));
    try {
      const outcome = await getOutcome(`${proxy.url}/bad`);
      assert.ok("error" in outcome, JSON.stringify(outcome));
      assert.ok(logs.lines.some((line) => line.includes("invalid response headers:")), logs.lines.join("\n"));
      const next = await http1Request(`${proxy.url}/next`);
      assert.equal(next.status, 200);
      assert.equal(echoedPath(next.body), "/next");
    } finally {
      await proxy.close();
    }
  });

  it("h2c: that stream is reset with INTERNAL_ERROR, the next stream on the same connection is served", async () => {
    const { proxy } = await startWasmProxy(headerWriter("proxy_on_response_headers", "x bad", "1", "add"));
    const session = h2connect(proxy.url);
    try {
      const exchange = (path: string): Promise<{ status?: number; body?: string; code?: number }> =>
        new Promise((resolve) => {
          const stream = session.request({ ":path": path });
          let status: number | undefined;
          const chunks: Buffer[] = [];
          stream.on("response", (headers) => (status = Number(headers[":status"])));
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("error", () => {});
          stream.on("close", () => resolve({ status, body: Buffer.concat(chunks).toString(), code: stream.rstCode }));
          stream.end();
        });
      const reset = await exchange("/bad");
      assert.equal(reset.status, undefined);
      assert.equal(reset.code, 2);
      const next = await exchange("/next");
      assert.equal(next.status, 200);
      assert.equal(echoedPath(next.body!), "/next");
    } finally {
      session.close();
      await proxy.close();
    }
  });
});

describe("content-length a filter sets (fault 7)", () => {
  it("response: one Content-Length line with both values joined by `,`, as Envoy's inline header", async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { "content-length": "10" });
      res.end("0123456789");
    });
    const { proxy } = await startWasmProxy(headerWriter("proxy_on_response_headers", "content-length", "3", "add"), {
      adjust: (config) => {
        config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
        config.echoUpstream = false;
      },
    });
    try {
      const response = await rawExchange(proxy.url, "GET /bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      const head = response.slice(0, response.indexOf("\r\n\r\n")).split("\r\n");
      assert.deepEqual(
        head.filter((line) => /^content-length:/i.test(line)),
        ["content-length: 10,3"],
      );
      assert.equal(response.slice(response.indexOf("\r\n\r\n") + 4), "0123456789");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("response: a replaced content-length that contradicts the body goes out as set, the body as it is (Envoy's HTTP/1 codec)", async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { "content-length": "10" });
      res.end("0123456789");
    });
    const { proxy } = await startWasmProxy(headerWriter("proxy_on_response_headers", "content-length", "3"), {
      adjust: (config) => {
        config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
        config.echoUpstream = false;
      },
    });
    try {
      const response = await rawExchange(proxy.url, "GET /bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      const head = response.slice(0, response.indexOf("\r\n\r\n")).split("\r\n");
      assert.deepEqual(
        head.filter((line) => /^(content-length|transfer-encoding):/i.test(line)),
        ["content-length: 3"],
      );
      assert.equal(response.slice(response.indexOf("\r\n\r\n") + 4), "0123456789");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("request: the upstream gets one Content-Length line with both values", async () => {
    const heads: string[] = [];
    const upstream = createNetServer((socket: Socket) => {
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
        if (!text.includes("\r\n\r\n")) return;
        heads.push(text.slice(0, text.indexOf("\r\n\r\n")));
        socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const { proxy } = await startWasmProxy(headerWriter("proxy_on_request_headers", "content-length", "3", "add"), {
      adjust: (config) => {
        config.clusters.push(clusterFromUrl("upstream", upstreamUrl, "test"));
        config.echoUpstream = false;
      },
    });
    try {
      const response = await http1Request(`${proxy.url}/bad`, { method: "POST", headers: { "content-length": "5" }, body: ["hello"] });
      assert.equal(response.status, 200);
      assert.equal(heads.length, 1);
      assert.deepEqual(
        heads[0].split("\r\n").filter((line) => /^content-length:/i.test(line)),
        ["content-length: 5,3"],
      );
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});

describe("proxy_http_call with invalid headers or trailers", () => {
  for (const concurrency of [1, 2]) {
    it(`concurrency ${concurrency}: the call is answered by the codec's 503, and the next call works`, async () => {
      const seen: string[] = [];
      const auth = await startUpstream((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.end("fine");
      });
      const cases: { headers: [string, string][]; message: string }[] = [
        { headers: [[":method", "GET"], [":path", "/check"], [":authority", "auth"], ["x-bad", "a\r\nb"]], message: "invalid header value for: x-bad" },
        { headers: [[":method", "GE T"], [":path", "/check"], [":authority", "auth"]], message: "invalid header value for: :method" },
        { headers: [[":method", "GET"], [":path", "/check"], [":authority", "a\r\nb"]], message: "invalid header value for: :authority" },
        { headers: [[":method", "GET"], [":path", "/check"], [":authority", "auth"], ["x bad", "1"]], message: "invalid header name: x bad" },
      ];
      // Worker threads make each proxy slow to start: two cases there, the codec path is the same.
      for (const { headers, message } of concurrency === 1 ? cases : cases.slice(0, 2)) {
        const { proxy } = await startWasmProxy(calloutWith(headers), {
          concurrency,
          adjust: (config) => config.clusters.push(clusterFromUrl("auth", auth.url, "test")),
        });
        try {
          const response = await http1Request(`${proxy.url}/guarded`);
          assert.equal(response.status, 503);
          assert.equal(response.body, message);
        } finally {
          await proxy.close();
        }
      }
      assert.deepEqual(seen, []);
      // Invalid trailers are dropped (Envoy's HTTP/1 codec sends none by default); the call goes out.
      const { proxy, logs } = await startWasmProxy(
        calloutWith([[":method", "POST"], [":path", "/check"], [":authority", "auth"]], [["x-bad", "a\r\nb"]]),
        { concurrency, adjust: (config) => config.clusters.push(clusterFromUrl("auth", auth.url, "test")) },
      );
      try {
        const response = await http1Request(`${proxy.url}/guarded`);
        assert.equal(response.status, 200);
        assert.equal(response.body, "fine");
        assert.deepEqual(seen, ["POST /check"]);
        await until(() => logs.lines.some((line) => line.endsWith("trailers dropped: invalid header value for: x-bad")), "the log line");
      } finally {
        await proxy.close();
        await auth.close();
      }
    });
  }
});

describe("the test kit agrees with Envoy's proxy_http_call", () => {
  it("accepts a call whose header values are invalid (Envoy checks only :method, :path, :authority there)", () => {
    const host = createTestHost({
      wasm: calloutWith([[":method", "GET"], [":path", "/check"], [":authority", "auth"], ["x-bad", "a\r\nb"]]),
      clusters: ["auth"],
    });
    const stream = host.http();
    assert.equal(stream.requestHeaders([[":path", "/"], [":method", "GET"], [":authority", "h"]]), "StopAllIterationAndWatermark");
    const [callout] = host.callouts.pendingHttp;
    assert.deepEqual(callout.headers, [[":method", "GET"], [":path", "/check"], [":authority", "auth"], ["x-bad", "a\r\nb"]]);
    assert.equal(callout.token, 4);
  });
});

/** Calls `pkg.Auth/Check` on cluster `grpc` with `metadata`; on close replies 200+status with the status message as body. */
function grpcCallWith(metadata: [string, string][]): Uint8Array {
  const pairs = watPairs(metadata);
  return compileWat(`(module
    (import "env" "proxy_grpc_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
    (import "env" "proxy_get_status" (func $status (param i32 i32 i32) (result i32)))
    (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    ${COMMON}
    (data (i32.const 100) "grpc")
    (data (i32.const 110) "pkg.Auth")
    (data (i32.const 120) "Check")
    (data (i32.const 130) "ping")
    (data (i32.const 1024) "${pairs.data}")
    (global $stream (mut i32) (i32.const 0))
    (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
      (global.set $stream (local.get $id))
      (drop (call $call (i32.const 100) (i32.const 4) (i32.const 110) (i32.const 8) (i32.const 120) (i32.const 5)
        (i32.const 1024) (i32.const ${pairs.size}) (i32.const 130) (i32.const 4) (i32.const 5000) (i32.const 300)))
      (i32.const 1))
    (func (export "proxy_on_grpc_close") (param i32 i32) (param $code i32)
      (drop (call $effective (global.get $stream)))
      (drop (call $status (i32.const 400) (i32.const 404) (i32.const 408)))
      (drop (call $reply (i32.add (i32.const 200) (local.get $code)) (i32.const 0) (i32.const 0)
        (i32.load (i32.const 404)) (i32.load (i32.const 408)) (i32.const 0) (i32.const 0) (i32.const -1))))
  )`);
}

/** A gRPC cluster nobody listens on: these calls end before a connection is made. */
function unreachableGrpcCluster(config: DevProxyConfig): void {
  const cluster = clusterFromUrl("grpc", "http://127.0.0.1:9", "test");
  cluster.http2 = true;
  config.clusters.push(cluster);
}

describe("proxy_grpc_call with invalid initial metadata", () => {
  it("closes with UNAVAILABLE (14) and the codec's message; the proxy keeps serving", async () => {
    const { proxy } = await startWasmProxy(grpcCallWith([["x-bad", "a\r\nb"]]), { adjust: unreachableGrpcCluster });
    try {
      for (let i = 0; i < 2; i++) {
        const response = await http1Request(`${proxy.url}/guarded`);
        assert.equal(response.status, 214);
        assert.equal(response.body, "invalid header value for: x-bad");
      }
    } finally {
      await proxy.close();
    }
  });

  it("metadata node:http2 refuses otherwise (a single-value header twice) closes that call with UNAVAILABLE too", async () => {
    const { proxy } = await startWasmProxy(grpcCallWith([["authorization", "a"], ["authorization", "b"]]), { adjust: unreachableGrpcCluster });
    try {
      for (let i = 0; i < 2; i++) {
        const response = await http1Request(`${proxy.url}/guarded`);
        assert.equal(response.status, 214);
        assert.match(response.body, /authorization/);
      }
    } finally {
      await proxy.close();
    }
  });
});
