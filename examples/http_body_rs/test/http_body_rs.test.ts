import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../build/http_body_rs.wasm", import.meta.url);
const SECRET = "This secret message should not be read by anyone.\n";
const PUBLIC = "Everyone may read this message.\n";
const GET = { ":method": "GET", ":path": "/", ":authority": "localhost:10000" };

test("http_body_rs: a body mentioning a secret is replaced, content-length is removed", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  assert.equal(SECRET.length, 50);
  const result = host.flow({
    request: { headers: { ...GET, ":path": "/secret" } },
    response: { headers: { ":status": "200", "content-length": "50", "content-type": "text/plain" }, body: SECRET },
  });
  assert.deepEqual(result.downstream.headers, [[":status", "200"], ["content-type", "text/plain"]]);
  assert.equal(result.downstream.body, "Original message body (50 bytes) redacted.\n");
  assert.equal(result.downstream.ended, true);
  assert.equal(host.failure, null);
});

test("http_body_rs: a body without a secret passes unchanged (content-length still removed)", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const result = host.flow({
    request: { headers: GET },
    response: { headers: { ":status": "200", "content-length": String(PUBLIC.length) }, body: PUBLIC },
  });
  assert.deepEqual(result.downstream.headers, [[":status", "200"]]);
  assert.equal(result.downstream.body, PUBLIC);
});

test("http_body_rs: chunks are buffered until end of stream, so a split 'secret' is still found", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const stream = host.http();
  stream.requestHeaders(GET, { endOfStream: true });
  assert.equal(stream.responseHeaders({ ":status": "200", "content-length": "50" }), "Continue");
  assert.equal(stream.responseBody("This sec"), "StopIterationAndBuffer");
  assert.equal(stream.downstream.body, "", "nothing is forwarded while buffering");
  assert.equal(stream.responseBody("ret message should not be read by anyone."), "StopIterationAndBuffer");
  assert.equal(stream.responseBody("\n", { endOfStream: true }), "Continue");
  assert.equal(stream.downstream.body, "Original message body (50 bytes) redacted.\n");
  assert.equal(stream.downstream.ended, true);
  stream.complete();
  assert.equal(host.vm.contexts.size, 1, "only the root context is left");
});

test("http_body_rs: an empty end-of-stream chunk after the body still triggers the check", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const stream = host.http();
  stream.requestHeaders(GET, { endOfStream: true });
  stream.responseHeaders({ ":status": "200" });
  assert.equal(stream.responseBody(SECRET), "StopIterationAndBuffer");
  assert.equal(stream.responseBody("", { endOfStream: true }), "Continue");
  assert.equal(stream.downstream.body, "Original message body (50 bytes) redacted.\n");
});

test("http_body_rs: request bodies are not touched", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const result = host.flow({ request: { headers: { ...GET, ":method": "POST", "content-length": "6" }, body: "secret" } });
  assert.equal(result.upstream.body, "secret");
  assert.equal(result.upstream.header("content-length"), "6");
});

test("http_body_rs: logs nothing and leaks nothing over 100 requests", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  host.leakCheck(100, () => {
    host.flow({ request: { headers: GET }, response: { headers: { ":status": "200" }, body: SECRET } });
  });
  assert.deepEqual(host.logs.messages, []);
});
