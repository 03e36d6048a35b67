/**
 * Through the dev proxy with real clients: no filter callback reaches a stream after it ended, and
 * a stream paused in a filter whose VM fails in a root callback is answered by the failure policy
 * at once (see tests/testing/vm-failure-waiting-streams.test.ts for the Envoy facts and the one
 * deliberate difference).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as http2Connect, type ClientHttp2Stream } from "node:http2";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defaultConfig, type DevProxyConfig, type FailurePolicy } from "../../src/proxy/config/dev-proxy-config";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { startDevProxy, type DevProxy } from "../../src/proxy/dev-proxy";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { http1Request, LogCapture, startUpstream } from "./proxy-test-helpers";
import { compileWat } from "./wat-filters";

const dir = mkdtempSync(join(tmpdir(), "pwas-stream-end-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const COMMON = `
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "proxy_abi_version_0_2_1"))
`;

/**
 * Acts as an SDK does on an unknown context: traps when a stream callback arrives for a context
 * that `proxy_on_delete` already removed (the AssemblyScript SDK aborts with `bad context id or
 * kind`). Adds `x-filtered: yes` to every response.
 */
const CONTEXT_CHECKING = compileWat(`(module
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  ${COMMON}
  (data (i32.const 100) "x-filtered")
  (data (i32.const 120) "yes")
  (func (export "proxy_on_context_create") (param $id i32) (param i32)
    (i32.store8 (i32.add (i32.const 1024) (local.get $id)) (i32.const 1)))
  (func (export "proxy_on_delete") (param $id i32)
    (i32.store8 (i32.add (i32.const 1024) (local.get $id)) (i32.const 0)))
  (func $check (param $id i32)
    (if (i32.eqz (i32.load8_u (i32.add (i32.const 1024) (local.get $id)))) (then unreachable)))
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    (call $check (local.get $id)) (i32.const 0))
  (func (export "proxy_on_request_body") (param $id i32) (param i32 i32) (result i32)
    (call $check (local.get $id)) (i32.const 0))
  (func (export "proxy_on_response_headers") (param $id i32) (param i32 i32) (result i32)
    (call $check (local.get $id))
    (drop (call $add (i32.const 2) (i32.const 100) (i32.const 10) (i32.const 120) (i32.const 3)))
    (i32.const 0))
)`);

/** `pairs` bytes of GET /check to `auth`, as a WAT data string. */
const CHECK_HEADERS = (() => {
  const pairs: [string, string][] = [[":method", "GET"], [":path", "/check"], [":authority", "auth"]];
  const bytes: number[] = [];
  const u32 = (n: number) => bytes.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
  u32(pairs.length);
  for (const [k, v] of pairs) {
    u32(k.length);
    u32(v.length);
  }
  for (const [k, v] of pairs) bytes.push(...Buffer.from(k), 0, ...Buffer.from(v), 0);
  return { data: bytes.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join(""), size: bytes.length };
})();

/**
 * Calls cluster `auth` from the request headers and pauses the request; its
 * `proxy_on_http_call_response` then traps (`unreachable`) or never returns (`loop`).
 */
function failingCalloutFilter(how: "trap" | "loop"): Uint8Array {
  return compileWat(`(module
    (import "env" "proxy_http_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    ${COMMON}
    (func (export "proxy_on_context_create") (param i32 i32))
    (data (i32.const 100) "auth")
    (data (i32.const 1024) "${CHECK_HEADERS.data}")
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $call (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const ${CHECK_HEADERS.size})
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 300)))
      (i32.const 1))
    (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
      ${how === "loop" ? "(loop $forever (br $forever))" : "unreachable"})
  )`);
}

/**
 * Pauses every request in its headers; the tick (every 100 ms from VM start) then traps, but only
 * once a request is waiting, so the VM is healthy until then.
 */
const FAILING_TICK = compileWat(`(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))
  ${COMMON}
  (global $waiting (mut i32) (i32.const 0))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $tick_period (i32.const 100)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (global.set $waiting (i32.const 1))
    (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (if (global.get $waiting) (then unreachable)))
)`);

async function startWasmProxy(
  name: string,
  wasm: Uint8Array,
  policy: FailurePolicy,
  adjust: (config: DevProxyConfig) => void,
): Promise<{ proxy: DevProxy; logs: LogCapture }> {
  const wasmPath = join(dir, `${name}.wasm`);
  writeFileSync(wasmPath, wasm);
  const config = defaultConfig();
  config.listener.port = 0;
  config.admin = { host: "127.0.0.1", port: 0 };
  config.filters = [
    {
      name,
      rootId: "",
      vmId: "",
      wasmPath,
      pluginConfiguration: Buffer.alloc(0),
      vmConfiguration: Buffer.alloc(0),
      failurePolicy: policy,
      allowOnHeadersStopIteration: false,
    },
  ];
  adjust(config);
  const logs = new LogCapture();
  const proxy = await startDevProxy(config, {
    logger: new ProxyLogger({ level: config.logLevel, output: logs, colour: false }),
    buildFilters: buildWasmFilters,
  });
  return { proxy, logs };
}

/** Reads from `socket` until `text` has arrived; rejects after 30 s so a hang fails the test. */
/** Resolves when the proxy has closed `socket`; bounded (60 s), so a proxy that keeps it open fails the test. */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => reject(new Error("the proxy did not close the connection")), 60_000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function readUntil(socket: Socket, received: { text: string }, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      if (!received.text.includes(text)) return false;
      clearTimeout(timer);
      socket.off("data", onData);
      resolve();
      return true;
    };
    const onData = (): void => {
      check();
    };
    const timer = setTimeout(() => {
      socket.off("data", onData);
      reject(new Error(`gave up waiting for ${JSON.stringify(text)}; got ${JSON.stringify(received.text)}`));
    }, 30_000);
    if (!check()) socket.on("data", onData);
  });
}

/** Status, `x-filtered` and body of an h2 response; rejects after 30 s so a hang fails the test. */
function readH2Response(stream: ClientHttp2Stream): Promise<{ status: number; filtered: unknown; body: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no h2 response")), 30_000);
    let status = 0;
    let filtered: unknown;
    let body = "";
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
      filtered = headers["x-filtered"];
    });
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (body += chunk));
    // The response's end (the request side may still be open: a slow client).
    stream.on("end", () => {
      clearTimeout(timer);
      resolve({ status, filtered, body });
    });
    stream.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe("dev proxy: no filter callback after a stream ended", () => {
  for (const concurrency of [1, 2]) {
    it(`--concurrency ${concurrency}: a request body that arrives after the router's 504 reaches no callback; the VM stays healthy and the next request is filtered`, async () => {
      const upstream = await startUpstream((req, res) => {
        // `/slow` is never answered; anything else is.
        if (req.url === "/slow") return;
        req.resume();
        req.on("end", () => res.end("ok"));
      });
      const { proxy, logs } = await startWasmProxy("checking", CONTEXT_CHECKING, "FAIL_CLOSED", (config) => {
        config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
        config.echoUpstream = false;
        config.routes = [{ prefix: "/", cluster: "upstream", timeoutMs: 200 }];
        config.concurrency = concurrency;
      });
      const { port } = new URL(proxy.url);
      const socket = connect(Number(port), "127.0.0.1");
      const received = { text: "" };
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => (received.text += chunk));
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once("connect", resolve);
          socket.once("error", reject);
        });
        // A slow client: the body's first half, then nothing until the route timeout answered.
        socket.write("POST /slow HTTP/1.1\r\nhost: proxy\r\ncontent-length: 10\r\n\r\nearly");
        await readUntil(socket, received, "upstream request timeout");
        assert.match(received.text, /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
        assert.match(received.text, /\r\nx-filtered: yes\r\n/i);
        // Envoy answers before the request ended, so it closes the HTTP/1 connection
        // (conn_manager_impl.cc); the rest of the body, if the proxy still reads it, reaches no filter.
        assert.match(received.text, /\r\nconnection: close\r\n/);
        const closed = closeOf(socket);
        socket.on("error", () => {});
        socket.write("late!");
        await closed;
        assert.deepEqual(logs.lines.filter((line) => line.includes("failed")), []);
        // The next request, on a fresh connection, is filtered by the same healthy VM.
        const next = await http1Request(`${proxy.url}/again`);
        assert.equal(next.status, 200);
        assert.equal(next.headers["x-filtered"], "yes");
      } finally {
        socket.destroy();
        await proxy.close();
        await upstream.close();
      }
    });
  }
});

describe("dev proxy: no filter callback after a stream ended (h2c)", () => {
  it("a DATA frame that arrives after the router's 504 reaches no callback; the next stream on the connection is filtered", async () => {
    const upstream = await startUpstream((req, res) => {
      if (req.url === "/slow") return;
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    const { proxy, logs } = await startWasmProxy("checking-h2", CONTEXT_CHECKING, "FAIL_CLOSED", (config) => {
      config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
      config.echoUpstream = false;
      config.routes = [{ prefix: "/", cluster: "upstream", timeoutMs: 200 }];
    });
    const session = http2Connect(proxy.url);
    try {
      const slow = session.request({ ":method": "POST", ":path": "/slow", "content-length": "10" });
      slow.write("early");
      const first = await readH2Response(slow);
      assert.equal(first.status, 504);
      assert.equal(first.filtered, "yes");
      assert.equal(first.body, "upstream request timeout");
      // The rest of the body on the answered stream, then a PING: the proxy acknowledges it only
      // after it has processed the DATA frame before it.
      slow.end("late!");
      await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));
      const next = await readH2Response(session.request({ ":method": "GET", ":path": "/next" }, { endStream: true }));
      assert.equal(next.status, 200);
      assert.equal(next.filtered, "yes");
      assert.equal(next.body, "ok");
      assert.deepEqual(logs.lines.filter((line) => line.includes("failed")), []);
    } finally {
      session.destroy();
      await proxy.close();
      await upstream.close();
    }
  });
});

describe("dev proxy: no SDK callback after a stream ended", () => {
  it("http_body_chunk (AssemblyScript SDK): a body chunk after the router's 504 does not abort the SDK (`bad context id or kind`); the next request's body is scanned", async () => {
    const wasm = new Uint8Array(readFileSync(new URL("../../examples/http_body_chunk/build/http_body_chunk.wasm", import.meta.url)));
    const upstream = await startUpstream((req, res) => {
      if (req.url === "/slow") return;
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    const { proxy, logs } = await startWasmProxy("http_body_chunk", wasm, "FAIL_CLOSED", (config) => {
      config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
      config.echoUpstream = false;
      config.routes = [{ prefix: "/", cluster: "upstream", timeoutMs: 200 }];
    });
    const socket = connect(Number(new URL(proxy.url).port), "127.0.0.1");
    const received = { text: "" };
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (received.text += chunk));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      socket.write("POST /slow HTTP/1.1\r\nhost: proxy\r\ncontent-length: 10\r\n\r\nearly");
      await readUntil(socket, received, "upstream request timeout");
      assert.match(received.text, /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
      // Envoy closes the HTTP/1 connection of a stream answered before its request ended.
      assert.match(received.text, /\r\nconnection: close\r\n/);
      const closed = closeOf(socket);
      socket.on("error", () => {});
      socket.write("late!");
      await closed;
      const next = await http1Request(`${proxy.url}/next`, { method: "POST", headers: { "content-length": "5" }, body: ["clean"] });
      assert.equal(next.status, 200);
      assert.deepEqual(logs.lines.filter((line) => line.includes("bad context id") || line.includes("failed")), []);
      assert.ok(logs.lines.some((line) => line.endsWith("pattern not found")), logs.lines.join("\n"));
    } finally {
      socket.destroy();
      await proxy.close();
      await upstream.close();
    }
  });
});

describe("dev proxy: a VM failing in proxy_on_http_call_response answers the paused request at once", () => {
  const cases: { how: "trap" | "loop"; policy: FailurePolicy; concurrency: number }[] = [
    { how: "trap", policy: "FAIL_CLOSED", concurrency: 1 },
    { how: "trap", policy: "FAIL_OPEN", concurrency: 1 },
    { how: "loop", policy: "FAIL_CLOSED", concurrency: 1 },
    { how: "loop", policy: "FAIL_OPEN", concurrency: 1 },
    { how: "trap", policy: "FAIL_CLOSED", concurrency: 2 },
    { how: "trap", policy: "FAIL_OPEN", concurrency: 2 },
    // With workers, the watchdog ends a looping callback by replacing the worker (its streams get
    // the policy through WorkerFilterStream.fail).
    { how: "loop", policy: "FAIL_CLOSED", concurrency: 2 },
    { how: "loop", policy: "FAIL_OPEN", concurrency: 2 },
  ];
  for (const { how, policy, concurrency } of cases) {
    const what = how === "trap" ? "a trap" : "the callback time limit";
    it(`${what}, ${policy}, --concurrency ${concurrency}: ${policy === "FAIL_CLOSED" ? "503 wasm_fail_stream" : "the request goes on unfiltered"}`, async () => {
      const auth = await startUpstream((_req, res) => res.end("ok"));
      const upstream = await startUpstream((req, res) => res.end(`upstream saw ${req.method} ${req.url}`));
      const { proxy, logs } = await startWasmProxy(`callout-${how}`, failingCalloutFilter(how), policy, (config) => {
        config.clusters.push(clusterFromUrl("auth", auth.url, "test"));
        config.clusters.push(clusterFromUrl("upstream", upstream.url, "test"));
        config.echoUpstream = false;
        config.routes = [{ prefix: "/", cluster: "upstream", timeoutMs: 0 }];
        config.concurrency = concurrency;
        // Short enough to keep the test quick; the trap cases keep the default (5 s).
        if (how === "loop") config.callbackTimeLimitMs = 1_000;
      });
      try {
        // http1Request has no timeout of its own: a request left waiting would hang the test
        // until node:test's own timeout, so bound it.
        const response = await Promise.race([
          http1Request(`${proxy.url}/resource`),
          new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error("the paused request was never answered")), 30_000).unref()),
        ]);
        if (policy === "FAIL_CLOSED") {
          assert.equal(response.status, 503);
          assert.equal(response.body, "");
        } else {
          assert.equal(response.status, 200);
          assert.equal(response.body, "upstream saw GET /resource");
        }
        const report =
          how === "trap"
            ? "Function: proxy_on_http_call_response failed: Uncaught RuntimeError: unreachable"
            : concurrency === 1
              ? "Function: proxy_on_http_call_response failed: callback time limit (1000 ms) exceeded"
              : "a filter callback ran longer than the callback time limit (1000 ms)";
        assert.ok(logs.lines.some((line) => line.includes(report)), logs.lines.join("\n"));
      } finally {
        await proxy.close();
        await auth.close();
        await upstream.close();
      }
    });
  }
});

describe("dev proxy: a VM failing in proxy_on_tick answers the paused request at once", () => {
  for (const concurrency of [1, 2]) {
    it(`--concurrency ${concurrency}: FAIL_CLOSED answers 503`, async () => {
      const { proxy, logs } = await startWasmProxy("tick", FAILING_TICK, "FAIL_CLOSED", (config) => {
        config.concurrency = concurrency;
      });
      try {
        const response = await Promise.race([
          http1Request(`${proxy.url}/waits`),
          new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error("the paused request was never answered")), 30_000).unref()),
        ]);
        assert.equal(response.status, 503);
        assert.equal(response.body, "");
        assert.ok(logs.lines.some((line) => line.includes("Function: proxy_on_tick failed: Uncaught RuntimeError: unreachable")), logs.lines.join("\n"));
      } finally {
        await proxy.close();
      }
    });
  }
});
