import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/http_body_chunk.wasm", import.meta.url);

function messages(host: TestHost, level: string): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === level).map((r) => r.message);
}

const postHeaders = { ":method": "POST", ":path": "/anything", ":authority": "localhost" };

test("a single chunk containing the pattern gets a local 403 at chunk 1", () => {
  const host = createTestHost({ wasm });
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders(postHeaders);
  // A local response overrides the filter's return value with Envoy's stop for body callbacks.
  assert.equal(stream.requestBody("This is a payload with the pattern word.", { endOfStream: true }), "StopIterationNoBuffer");
  assert.deepEqual(stream.localResponse, {
    status: 403, details: "", body: "pattern found in chunk: 1", headers: [["powered-by", "proxy-wasm-as"]], grpcStatus: undefined,
  });
  assert.equal(stream.upstream.body, "");
  assert.equal(stream.downstream.status, 403);
  assert.equal(stream.downstream.header("powered-by"), "proxy-wasm-as");
  assert.deepEqual(messages(host, "info"), [
    "OnHttpRequestBody called. BodySize: 40, totalRequestBodyReadSize: 0, endOfStream: true",
    "read chunk size: 40",
    "pattern found in chunk: 1",
    "local 403 response sent",
  ]);
  assert.deepEqual(messages(host, "error"), []);
});

test("chunks are read one by one; the pattern in the 4th chunk gives `pattern found in chunk: 4`", () => {
  const host = createTestHost({ wasm });
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders(postHeaders);
  const chunks = ["chunk1...", "chunk2...", "chunk3...", "chunk4 with pattern"];
  for (const chunk of chunks.slice(0, 3)) assert.equal(stream.requestBody(chunk), "StopIterationAndBuffer");
  assert.equal(stream.localResponse, null);
  assert.equal(stream.requestBody(chunks[3]!), "StopIterationNoBuffer");
  assert.deepEqual(stream.localResponse, {
    status: 403, details: "", body: "pattern found in chunk: 4", headers: [["powered-by", "proxy-wasm-as"]], grpcStatus: undefined,
  });
  assert.deepEqual(messages(host, "info"), [
    "OnHttpRequestBody called. BodySize: 9, totalRequestBodyReadSize: 0, endOfStream: false",
    "read chunk size: 9",
    "OnHttpRequestBody called. BodySize: 18, totalRequestBodyReadSize: 9, endOfStream: false",
    "read chunk size: 9",
    "OnHttpRequestBody called. BodySize: 27, totalRequestBodyReadSize: 18, endOfStream: false",
    "read chunk size: 9",
    "OnHttpRequestBody called. BodySize: 46, totalRequestBodyReadSize: 27, endOfStream: false",
    "read chunk size: 19",
    "pattern found in chunk: 4",
    "local 403 response sent",
  ]);
  assert.deepEqual(messages(host, "error"), []);
});

test("a pattern split across two chunks is not seen (each chunk is scanned on its own)", () => {
  const host = createTestHost({ wasm });
  const { upstream, localResponse } = host.flow({ request: { headers: postHeaders, body: "patt" } });
  assert.equal(localResponse, null);
  assert.equal(upstream.body, "patt");

  const stream = host.http();
  stream.requestHeaders(postHeaders);
  stream.requestBody("patt");
  assert.equal(stream.requestBody("ern", { endOfStream: true }), "Continue");
  assert.equal(stream.localResponse, null);
  assert.equal(stream.upstream.body, "pattern");
});

test("without the pattern the whole body goes upstream at end of stream, logging `pattern not found`", () => {
  const host = createTestHost({ wasm });
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders(postHeaders);
  assert.equal(stream.requestBody("This is a generic payload."), "StopIterationAndBuffer");
  assert.equal(stream.upstream.body, "");
  assert.equal(stream.requestBody("", { endOfStream: true }), "Continue");
  assert.equal(stream.localResponse, null);
  assert.equal(stream.upstream.body, "This is a generic payload.");
  assert.deepEqual(messages(host, "info"), [
    "OnHttpRequestBody called. BodySize: 26, totalRequestBodyReadSize: 0, endOfStream: false",
    "read chunk size: 26",
    "OnHttpRequestBody called. BodySize: 26, totalRequestBodyReadSize: 26, endOfStream: true",
    "pattern not found",
  ]);
  assert.deepEqual(messages(host, "error"), []);
});

test("a request without a body never reaches the body callback", () => {
  const host = createTestHost({ wasm });
  host.logs.clear();
  const { upstream } = host.flow({ request: { headers: { ":method": "GET", ":path": "/" } } });
  assert.deepEqual(upstream.headers, [[":method", "GET"], [":path", "/"]]);
  assert.deepEqual(messages(host, "info"), []);
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
