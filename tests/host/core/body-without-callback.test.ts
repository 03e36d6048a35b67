// A module without body callbacks: Envoy treats the missing export as Continue, so every chunk,
// the end of stream and the trailers go on unchanged and in order (the driver's direct path).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import type { HttpStreamSink } from "../../../src/host/drivers/http-stream";
import { HeaderMap } from "../../../src/host/header-map";
import { compileWat } from "./wat";

const HEADERS_ONLY = compileWat(`(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
)`);

/** Stops iteration at the request headers and has no body callback. */
const PAUSING = compileWat(`(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))
)`);

test("no body callback: chunks, end of stream and trailers pass in order, sizes are counted", () => {
  const host = createTestHost({ wasm: HEADERS_ONLY });
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ":method": "POST", ":path": "/", ":authority": "a" }), "Continue");
  assert.equal(stream.requestBody("ab"), "Continue");
  assert.equal(stream.requestBody("cd"), "Continue");
  assert.equal(stream.upstream.body, "abcd");
  assert.equal(stream.upstream.ended, false);
  assert.equal(stream.requestTrailers({ "x-checksum": "1" }), "Continue");
  assert.deepEqual(stream.upstream.trailers, [["x-checksum", "1"]]);
  assert.equal(stream.upstream.ended, true);

  assert.equal(stream.responseHeaders({ ":status": "200" }), "Continue");
  assert.equal(stream.responseBody("hello "), "Continue");
  assert.equal(stream.downstream.ended, false);
  assert.equal(stream.responseBody("world", { endOfStream: true }), "Continue");
  assert.equal(stream.downstream.body, "hello world");
  assert.equal(stream.downstream.ended, true);
  assert.equal(stream.stream.streamInfo.responseBodySize, 11);
  assert.equal(stream.stream.streamInfo.requestBodySize, 4);
  // Data after the end of stream is refused, as with a callback.
  assert.equal(stream.responseBody("late"), "StopIterationNoBuffer");
  assert.equal(stream.downstream.body, "hello world");
  assert.equal(host.failure, null);
});

test("no body callback, headers paused by the filter: the body is held until the stream continues", () => {
  const host = createTestHost({ wasm: PAUSING });
  const stream = host.http();
  // Envoy turns StopIteration from headers into StopAllIterationAndWatermark by default.
  assert.equal(stream.requestHeaders({ ":method": "POST", ":path": "/", ":authority": "a" }), "StopAllIterationAndWatermark");
  assert.equal(stream.requestBody("held", { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.equal(stream.upstream.headers, null);
  assert.equal(stream.upstream.body, "");
});

/** A sink that keeps the chunks it is handed, as they are. */
function chunkSink() {
  const upstream: Uint8Array[] = [];
  const downstream: Uint8Array[] = [];
  const sink: HttpStreamSink = {
    upstreamHeaders: () => {},
    upstreamData: (data) => void upstream.push(data),
    upstreamTrailers: () => {},
    downstreamHeaders: () => {},
    downstreamData: (data) => void downstream.push(data),
    downstreamTrailers: () => {},
    reset: () => {},
  };
  return { sink, upstream, downstream };
}

test("no body callback: a chunk that only passes through is forwarded as the caller's own array", () => {
  const host = createTestHost({ wasm: HEADERS_ONLY });
  const { sink, upstream, downstream } = chunkSink();
  const stream = host.host.httpStream(sink);
  stream.requestHeaders(HeaderMap.from({ ":method": "POST", ":path": "/", ":authority": "a" }), false);
  const requestChunk = new Uint8Array([1, 2, 3]);
  assert.equal(stream.requestBody(requestChunk, true), "Continue");
  stream.responseHeaders(HeaderMap.from({ ":status": "200" }), false);
  const responseChunk = Buffer.from("ok");
  assert.equal(stream.responseBody(responseChunk, true), "Continue");
  assert.equal(upstream.length, 1);
  assert.equal(upstream[0], requestChunk);
  assert.equal(downstream.length, 1);
  assert.equal(downstream[0], responseChunk);
});

test("a chunk the host holds is a copy: the caller reusing its array afterwards changes nothing", () => {
  const host = createTestHost({ wasm: PAUSING });
  const { sink, upstream } = chunkSink();
  const stream = host.host.httpStream(sink);
  stream.requestHeaders(HeaderMap.from({ ":method": "POST", ":path": "/", ":authority": "a" }), false);
  const chunk = new Uint8Array([104, 101, 108, 100]);
  assert.equal(stream.requestBody(chunk, true), "StopAllIterationAndWatermark");
  chunk.fill(0);
  assert.deepEqual([...stream.heldBody("request")], [104, 101, 108, 100]);
  assert.equal(upstream.length, 0);
});

test("the test kit records a passed-through chunk as a copy: reusing the array afterwards changes nothing", () => {
  const host = createTestHost({ wasm: HEADERS_ONLY });
  const stream = host.http();
  stream.requestHeaders({ ":method": "POST", ":path": "/", ":authority": "a" });
  const chunk = Uint8Array.from(Buffer.from("abc"));
  assert.equal(stream.requestBody(chunk), "Continue");
  chunk.fill(0x7a);
  assert.equal(stream.upstream.body, "abc");
  stream.responseHeaders({ ":status": "200" });
  const reply = Uint8Array.from(Buffer.from("ok"));
  assert.equal(stream.responseBody(reply, { endOfStream: true }), "Continue");
  reply.fill(0x7a);
  assert.equal(stream.downstream.body, "ok");
});
