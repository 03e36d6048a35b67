/**
 * No callback reaches a stream after it ended. In Envoy, once the response is complete (or the
 * stream reset) while the request is still arriving, `ConnectionManagerImpl::doEndStream`
 * (source/common/http/conn_manager_impl.cc) resets the stream and destroys its filters (the Wasm
 * filter's `onDestroy`: `proxy_on_log` via the access log, then `proxy_on_done`,
 * `proxy_on_delete`); request data that still arrives is never decoded through the filters. A late
 * chunk must not reach `proxy_on_request_body` on a deleted context: SDKs abort on an unknown
 * context id (the AssemblyScript SDK: `bad context id or kind`), which would fail the whole VM.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTestHost } from "../../src/testing";
import { compileWat } from "../host/core/wat";

/**
 * Keeps a live flag per context id (set by `proxy_on_context_create`, cleared by
 * `proxy_on_delete`) and traps, as an SDK does, when a stream callback arrives for a context
 * that is not live. Counts the body and trailers callbacks it sees in globals.
 */
const CONTEXT_CHECKING = compileWat(`(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "proxy_abi_version_0_2_1"))
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
  (func (export "proxy_on_request_trailers") (param $id i32) (param i32) (result i32)
    (call $check (local.get $id)) (i32.const 0))
  (func (export "proxy_on_response_headers") (param $id i32) (param i32 i32) (result i32)
    (call $check (local.get $id)) (i32.const 0))
  (func (export "proxy_on_response_body") (param $id i32) (param i32 i32) (result i32)
    (call $check (local.get $id)) (i32.const 0))
)`, "context-checking.wat");

describe("no callback after the stream ended", () => {
  it("a request body chunk and trailers that arrive after the response completed reach no callback", () => {
    const host = createTestHost({ wasm: CONTEXT_CHECKING });
    const stream = host.http();
    stream.requestHeaders({ ":path": "/upload", ":method": "POST" });
    assert.equal(stream.requestBody("first"), "Continue");
    // The router's 504 (route timeout) goes back through the response callbacks; the stream ends.
    stream.responseHeaders({ ":status": "504", "content-length": "24" });
    stream.responseBody("upstream request timeout", { endOfStream: true });
    stream.complete();
    assert.equal(stream.requestBody("late", { endOfStream: false }), "StopIterationNoBuffer");
    assert.equal(stream.requestTrailers({ "x-late": "1" }), "StopIteration");
    assert.equal(host.failure, null);
    assert.equal(stream.upstream.body, "first");
    assert.equal(stream.upstream.ended, false);
    // The VM still serves the next stream.
    const next = host.http();
    assert.equal(next.requestHeaders({ ":path": "/" }, { endOfStream: true }), "Continue");
    assert.equal(next.upstream.ended, true);
  });

  it("response frames and request headers that arrive after the stream ended reach no callback", () => {
    const host = createTestHost({ wasm: CONTEXT_CHECKING });
    const stream = host.http();
    stream.requestHeaders({ ":path": "/" }, { endOfStream: true });
    // Reset before any response (the client went away): the context is deleted.
    stream.complete();
    assert.equal(stream.responseHeaders({ ":status": "200" }), "StopAllIterationAndWatermark");
    assert.equal(stream.responseBody("late", { endOfStream: true }), "StopIterationNoBuffer");
    assert.equal(stream.requestHeaders({ ":path": "/again" }, { endOfStream: true }), "StopAllIterationAndWatermark");
    assert.equal(host.failure, null);
    assert.equal(stream.downstream.headers, null);
    assert.equal(host.vm.contexts.size, 1);
  });
});
