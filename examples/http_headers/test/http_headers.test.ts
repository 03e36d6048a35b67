import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";
import { PluginStartError } from "proxy-wasm-as";

const wasm = new URL("../build/http_headers.wasm", import.meta.url);

function wasmMessages(host: TestHost, level: string): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === level).map((r) => r.message);
}

test("without configuration the plugin starts and only logs that it loads its config", () => {
  const host = createTestHost({ wasm });
  assert.deepEqual(wasmMessages(host, "debug"), ["loading plugin config"]);
  assert.deepEqual(wasmMessages(host, "info"), []);
});

test("request headers: `test: best` is set, every header is logged, the stream logs its end", () => {
  const host = createTestHost({ wasm });
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders([["key1", "value1"], ["key2", "value2"]], { endOfStream: true }), "Continue");
  assert.deepEqual(stream.upstream.headers, [["key1", "value1"], ["key2", "value2"], ["test", "best"]]);
  assert.deepEqual(wasmMessages(host, "info"), [
    "request header --> key1: value1",
    "request header --> key2: value2",
    "request header --> test: best",
  ]);
  stream.complete();
  assert.equal(stream.contextId, 2);
  assert.equal(wasmMessages(host, "info").at(-1), "2 finished");
});

test("an existing `test` header is replaced, not duplicated", () => {
  const host = createTestHost({ wasm });
  const { upstream } = host.flow({ request: { headers: [["test", "worst"], ["test", "other"]] } });
  assert.deepEqual(upstream.headers, [["test", "best"]]);
});

test("without configuration the response gets only the example header", () => {
  const host = createTestHost({ wasm });
  host.logs.clear();
  const { downstream } = host.flow({ request: { headers: {} }, response: { headers: { ":status": "200" } } });
  assert.deepEqual(downstream.headers, [[":status", "200"], ["x-proxy-wasm-as-example", "http_headers"]]);
  assert.deepEqual(wasmMessages(host, "info"), [
    "request header --> test: best",
    "response header <-- :status: 200",
    "response header <-- x-proxy-wasm-as-example: http_headers",
    "2 finished",
  ]);
});

test("with configuration the response gets the configured header too, and both are logged", () => {
  const host = createTestHost({ wasm, pluginConfig: { header: "x-wasm-header", value: "x-value" } });
  assert.deepEqual(wasmMessages(host, "info"), ["header from config: x-wasm-header = x-value"]);
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders({ ":path": "/uuid" }, { endOfStream: true });
  assert.equal(stream.responseHeaders({ ":status": "200", server: "envoy" }, { endOfStream: true }), "Continue");
  assert.equal(stream.downstream.header("x-wasm-header"), "x-value");
  assert.equal(stream.downstream.header("x-proxy-wasm-as-example"), "http_headers");
  assert.deepEqual(wasmMessages(host, "info").slice(2), [
    "adding header: x-wasm-header=x-value",
    "response header <-- :status: 200",
    "response header <-- server: envoy",
    "response header <-- x-wasm-header: x-value",
    "response header <-- x-proxy-wasm-as-example: http_headers",
  ]);
});

test("the end-to-end request (GET /uuid with this-is-key) logs the key, the value and the response headers", () => {
  const host = createTestHost({ wasm, pluginConfig: { header: "x-wasm-header", value: "demo-wasm" } });
  const { downstream } = host.flow({
    request: { headers: { ":method": "GET", ":path": "/uuid", ":authority": "localhost", "this-is-key": "this-is-value" } },
    response: { headers: { ":status": "200", server: "envoy" } },
  });
  assert.equal(downstream.header("x-wasm-header"), "demo-wasm");
  assert.equal(downstream.header("x-proxy-wasm-as-example"), "http_headers");
  const info = wasmMessages(host, "info");
  assert.ok(info.includes("request header --> this-is-key: this-is-value"));
  assert.ok(info.includes("response header <-- server: envoy"));
  assert.ok(info.includes("response header <-- x-wasm-header: demo-wasm"));
});

// A plugin whose start fails never hands back its host, so it shares the "Envoy process" (and
// so the log recorder) of a healthy one.
function startFailure(pluginConfig: string): { error: unknown; critical: string[] } {
  const witness = createTestHost({ wasm });
  witness.logs.clear();
  let error: unknown = null;
  try {
    createTestHost({ wasm, pluginConfig, shareProcessWith: witness });
  } catch (thrown) {
    error = thrown;
  }
  return { error, critical: wasmMessages(witness, "critical") };
}

for (const [label, config, message] of [
  ["invalid JSON", "{not json", "unexpected character 'n' (1:2)"],
  ["an empty header name", '{"header": "", "value": "v"}', "header and value must not be empty"],
  ["an empty value", '{"header": "x-wasm-header", "value": ""}', "header and value must not be empty"],
  ["a missing value", '{"header": "x-wasm-header"}', "value: required field is missing (1:1)"],
  ["a value that is not a string", '{"header": "x-wasm-header", "value": 1}', "value: expected a string, got a number (1:38)"],
] as const) {
  test(`configuration with ${label} fails the plugin start with a critical log`, () => {
    const { error, critical } = startFailure(config);
    assert.ok(error instanceof PluginStartError, `expected PluginStartError, got ${String(error)}`);
    assert.equal(error.stage, "configure");
    assert.deepEqual(critical, [`invalid configuration: ${message}`]);
  });
}

test("strict mode: 200 streams make no out-of-place hostcall, leave no context behind and do not grow memory", () => {
  const host = createTestHost({ wasm, strict: true, pluginConfig: { header: "x-wasm-header", value: "x-value" } });
  // leakCheck throws if a context survives its stream or memory grows by more than a page.
  host.leakCheck(200, () => {
    host.flow({
      request: { headers: { ":method": "POST", ":path": "/", ":authority": "my-host.com", "content-type": "application/json", "content-length": "9" }, body: '{"id": 1}' },
      response: { headers: { ":status": "200", "content-length": "3" }, body: "abc" },
    });
  });
  assert.equal(host.failure, null);
});
