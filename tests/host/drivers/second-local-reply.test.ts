// Found by the fuzzer (tests/fuzz): a filter that calls proxy_send_local_response again while its
// first local reply is still in its own response callbacks left the client with no answer at all.
// Envoy (source/common/http/filter_manager.cc, DownstreamFilterManager::sendLocalReply): when the
// response has started through the filter chain but no non-1xx headers went downstream, the new
// reply bypasses the filter chain and goes straight to the codec (sendDirectLocalReply); once
// response headers went downstream, all it can do is reset the stream. The Wasm filter defers the
// call until the VM call returns (source/extensions/common/wasm/context.cc,
// Context::sendLocalResponse), so it lands in exactly those two cases.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { initWat, watToWasm } from "../../helpers/wat";

before(async () => {
  await initWat();
});

/**
 * on_request_headers answers 403 "first"; `secondFrom` (on_response_headers or on_response_body)
 * answers 418 "second" with details "again" and header x-second: 1. Every callback is counted in
 * the log so the test can see which ran.
 */
function module(secondFrom: "proxy_on_response_headers" | "proxy_on_response_body"): Uint8Array {
  const second = `(drop (call $reply (i32.const 418) (i32.const 3000) (i32.const 5) (i32.const 2000) (i32.const 6) (i32.const 4000) (i32.const 23) (i32.const -1)))`;
  return watToWasm(`(module
    (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 1000) "first")
    (data (i32.const 2000) "second")
    (data (i32.const 3000) "again")
    (data (i32.const 3100) "response headersresponse body")
    ;; one pair: x-second: 1
    (data (i32.const 4000) "\\01\\00\\00\\00\\08\\00\\00\\00\\01\\00\\00\\00x-second\\001\\00")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 8192))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $reply (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const -1)))
      (i32.const 0))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
      (drop (call $log (i32.const 2) (i32.const 3100) (i32.const 16)))
      ${secondFrom === "proxy_on_response_headers" ? second : ""}
      (i32.const 0))
    (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32)
      (drop (call $log (i32.const 2) (i32.const 3116) (i32.const 13)))
      ${secondFrom === "proxy_on_response_body" ? second : ""}
      (i32.const 0)))`);
}

test("a second local reply from the first reply's response headers goes to the client directly, as Envoy's sendDirectLocalReply", () => {
  const host = createTestHost({ wasm: module("proxy_on_response_headers") });
  const stream = host.http();
  assert.equal(stream.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "x"]], { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.deepEqual(stream.downstream.headers, [
    [":status", "418"],
    ["x-second", "1"],
    ["content-length", "6"],
    ["content-type", "text/plain"],
  ]);
  assert.equal(stream.downstream.body, "second");
  assert.equal(stream.downstream.ended, true);
  assert.equal(stream.resetDetails, null);
  assert.equal(stream.localResponse?.status, 418);
  assert.equal(stream.localResponse?.details, "again");
  // The direct reply skips the filter chain: no callback sees it (only the first reply's headers).
  assert.deepEqual(host.logs.lines.filter((line) => line.includes("response")), ["wasm log: response headers"]);
  stream.complete();
  assert.equal(host.vm.contexts.has(stream.contextId), false);
});

test("a second local reply once the first reply's headers went downstream resets the stream with its details, as Envoy does", () => {
  const host = createTestHost({ wasm: module("proxy_on_response_body") });
  const stream = host.http();
  stream.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "x"]], { endOfStream: true });
  assert.deepEqual(stream.downstream.headers, [
    [":status", "403"],
    ["content-length", "5"],
    ["content-type", "text/plain"],
  ]);
  assert.equal(stream.downstream.body, "", "the first reply's body never reaches the client");
  assert.equal(stream.resetDetails, "again");
  stream.complete();
  assert.equal(host.vm.contexts.has(stream.contextId), false);
});
