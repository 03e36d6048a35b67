import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/http_body.wasm", import.meta.url);

function info(host: TestHost): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === "info").map((r) => r.message);
}

test("request headers with content-length: Continue, content-length removed, the rest kept", () => {
  const host = createTestHost({ wasm });
  const stream = host.http();
  const status = stream.requestHeaders({ "content-length": "10", "buffer-operation": "replace" });
  assert.equal(status, "Continue");
  assert.deepEqual(stream.upstream.headers, [["buffer-operation", "replace"]]);
  assert.equal(stream.localResponse, null);
});

test("request headers without content-length: local 400 `content must be provided`", () => {
  const host = createTestHost({ wasm });
  const stream = host.http();
  // The filter returns StopIteration; Envoy widens it (allow_on_headers_stop_iteration unset).
  assert.equal(stream.requestHeaders({}, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.equal(stream.upstream.headers, null);
  assert.deepEqual(stream.localResponse, { status: 400, details: "", body: "content must be provided", headers: [], grpcStatus: undefined });
  assert.equal(stream.downstream.status, 400);
  assert.equal(stream.downstream.body, "content must be provided");
});

test("a body chunk without end of stream is held (StopIterationAndBuffer)", () => {
  const host = createTestHost({ wasm });
  const stream = host.http();
  stream.requestHeaders({ "content-length": "15" });
  assert.equal(stream.requestBody("[original body]"), "StopIterationAndBuffer");
  assert.equal(stream.upstream.body, "");
  assert.equal(stream.heldRequestBody, "[original body]");
});

const operations = [
  ["append", "[original body][this is appended body]"],
  ["prepend", "[this is prepended body][original body]"],
  ["replace", "[this is replaced body]"],
  ["invalid", "[this is replaced body]"],
] as const;

for (const [operation, expected] of operations) {
  test(`request mode, buffer-operation ${operation}: upstream receives ${expected}`, () => {
    const host = createTestHost({ wasm });
    host.logs.clear();
    const { upstream, downstream } = host.flow({
      request: { headers: { ":method": "PUT", "content-length": "15", "buffer-operation": operation }, body: "[original body]" },
      response: { headers: { ":status": "200" }, body: "response" },
    });
    assert.equal(upstream.body, expected);
    assert.equal(upstream.header("content-length"), undefined);
    assert.equal(downstream.body, "response");
    assert.deepEqual(info(host), ["original request body: [original body]"]);
  });

  test(`response mode, buffer-operation ${operation}: the client receives ${expected}`, () => {
    const host = createTestHost({ wasm });
    host.logs.clear();
    const { upstream, downstream } = host.flow({
      request: { headers: { ":method": "PUT", "content-length": "15", "buffer-replace-at": "response", "buffer-operation": operation }, body: "[original body]" },
      response: { headers: { ":status": "200", "content-length": "15" }, body: "[original body]" },
    });
    assert.equal(upstream.body, "[original body]");
    assert.equal(downstream.body, expected);
    assert.equal(downstream.header("content-length"), undefined);
    assert.deepEqual(info(host), ["original response body: [original body]"]);
  });
}

test("a body in several chunks is rewritten once, as a whole, at end of stream", () => {
  const host = createTestHost({ wasm });
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders({ "content-length": "15", "buffer-operation": "append" });
  assert.equal(stream.requestBody("[original"), "StopIterationAndBuffer");
  assert.equal(stream.requestBody(" body]", { endOfStream: true }), "Continue");
  assert.equal(stream.upstream.body, "[original body][this is appended body]");
  assert.deepEqual(info(host), ["original request body: [original body]"]);
});

test("echo: frames are held until end of stream, then a local 200 carries the whole body", () => {
  const host = createTestHost({ wasm, pluginConfig: "echo" });
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ":method": "PUT" }), "Continue");
  for (const frame of ["frame1...", "frame2...", "frame3..."]) {
    assert.equal(stream.requestBody(frame), "StopIterationAndBuffer");
    assert.equal(stream.localResponse, null);
  }
  assert.equal(stream.requestBody("", { endOfStream: true }), "StopIterationNoBuffer");
  assert.deepEqual(stream.localResponse, { status: 200, details: "", body: "frame1...frame2...frame3...", headers: [], grpcStatus: undefined });
  assert.equal(stream.upstream.body, "");
  assert.equal(stream.downstream.body, "frame1...frame2...frame3...");
});

test("echo needs no content-length and leaves a body-less request alone", () => {
  const host = createTestHost({ wasm, pluginConfig: "echo" });
  const { upstream, localResponse } = host.flow({ request: { headers: { ":method": "GET" } } });
  assert.equal(localResponse, null);
  assert.deepEqual(upstream.headers, [[":method", "GET"]]);
});

test("strict mode: 200 streams make no out-of-place hostcall, leave no context behind and do not grow memory", () => {
  const host = createTestHost({ wasm, strict: true });
  // leakCheck throws if a context survives its stream or memory grows by more than a page.
  host.leakCheck(200, () => {
    host.flow({
      request: { headers: { ":method": "POST", ":path": "/", ":authority": "my-host.com", "content-type": "application/json", "content-length": "9" }, body: '{"id": 1}' },
      response: { headers: { ":status": "200", "content-length": "3" }, body: "abc" },
    });
  });
  assert.equal(host.failure, null);
});
