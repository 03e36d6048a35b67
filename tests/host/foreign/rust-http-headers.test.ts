import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { RUST_HTTP_HEADERS } from "./foreign-fixtures";

const REQUEST: [string, string][] = [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "example.com"],
  ["this-is-key", "this-is-value"],
];

test("rust http_headers (wasm32-wasi): _initialize runs once before any callback, on the VM context", () => {
  const host = createTestHost({ wasm: RUST_HTTP_HEADERS });
  assert.deepEqual(host.logs.records.map((r) => [r.level, r.message, r.contextId]), [["trace", "reactor initialized", 0]]);
  assert.equal(host.failure, null);
});

test("rust http_headers: logs each request and response header as #<ctx> and completes in on_log", () => {
  const host = createTestHost({ wasm: RUST_HTTP_HEADERS, pluginName: "http_headers", strict: true });
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders(REQUEST, { endOfStream: true }), "Continue");
  assert.equal(stream.contextId, 2);
  assert.deepEqual(stream.upstream.headers, REQUEST);
  assert.equal(stream.responseHeaders([[":status", "200"], ["server", "envoy"]], { endOfStream: true }), "Continue");
  stream.complete();
  assert.deepEqual(host.logs.lines, [
    "wasm log http_headers: #2 -> :method: GET",
    "wasm log http_headers: #2 -> :path: /",
    "wasm log http_headers: #2 -> :authority: example.com",
    "wasm log http_headers: #2 -> this-is-key: this-is-value",
    "wasm log http_headers: #2 <- :status: 200",
    "wasm log http_headers: #2 <- server: envoy",
    "wasm log http_headers: #2 completed.",
  ]);
  assert.ok(host.logs.records.every((r) => r.level === "info"));
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["server", "envoy"]]);
  assert.equal(host.vm.contexts.size, 1, "the stream context was deleted");
});

test("rust http_headers: /hello is answered locally with 200, its headers and body; the upstream never sees it", () => {
  const host = createTestHost({ wasm: RUST_HTTP_HEADERS });
  host.logs.clear();
  const result = host.flow({ request: { headers: [[":method", "GET"], [":path", "/hello"], [":authority", "example.com"]] } });
  assert.equal(result.upstream.headers, null);
  assert.deepEqual(result.localResponse, {
    status: 200,
    details: "",
    body: "Hello, World!\n",
    headers: [["hello", "World"], ["powered-by", "proxy-wasm"]],
    grpcStatus: undefined,
  });
  // Envoy sends the local reply through the filter chain, so on_response_headers sees it too.
  assert.deepEqual(result.downstream.headers, [
    [":status", "200"],
    ["hello", "World"],
    ["powered-by", "proxy-wasm"],
    ["content-length", "14"],
    ["content-type", "text/plain"],
  ]);
  assert.equal(result.downstream.body, "Hello, World!\n");
  assert.deepEqual(host.logs.messages, [
    "#2 -> :method: GET",
    "#2 -> :path: /hello",
    "#2 -> :authority: example.com",
    "#2 <- :status: 200",
    "#2 <- hello: World",
    "#2 <- powered-by: proxy-wasm",
    "#2 <- content-length: 14",
    "#2 <- content-type: text/plain",
    "#2 completed.",
  ]);
});

test("rust http_headers: consecutive streams get ids 2, 3, 4 and header bytes that are not UTF-8 do not break it", () => {
  const host = createTestHost({ wasm: RUST_HTTP_HEADERS });
  for (let i = 0; i < 3; i++) host.flow({ request: { headers: [[":method", "GET"], [":path", `/${i}`], [":authority", "a"]] } });
  const stream = host.http();
  stream.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "a"], ["x-bin", new Uint8Array([0x61, 0xff, 0x62])]]);
  assert.deepEqual(host.logs.messages.filter((m) => m.endsWith("completed.")), ["#2 completed.", "#3 completed.", "#4 completed."]);
  // The filter decodes lossily (U+FFFD), the host hands the raw bytes over unchanged.
  assert.equal(host.logs.messages.at(-1), "#5 -> x-bin: a\uFFFDb");
  assert.equal(host.failure, null);
});

test("rust http_headers: no context or memory leak over 100 requests", () => {
  const host = createTestHost({ wasm: RUST_HTTP_HEADERS, logLevel: "warn" });
  const { memoryGrowth } = host.leakCheck(100, () => {
    host.flow({ request: { headers: REQUEST }, response: { headers: [[":status", "200"]] } });
  });
  assert.equal(memoryGrowth, 0);
});
