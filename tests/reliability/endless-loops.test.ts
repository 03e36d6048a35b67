// Faults of class "module": a filter that never returns from a callback. Envoy has no limit on a
// callback's run time (a loop hangs the worker thread; proxy-wasm-cpp-host src/v8/v8.cc runs each
// call to completion), so our host's callback time limit is stricter than Envoy: it stops the
// call inside the VM and treats it as a trap, which Envoy handles by failing the VM and applying
// the plugin's failure policy (proxy-wasm-cpp-host src/context.cc `CHECK_FAIL`; envoy
// source/extensions/common/wasm/context.cc `failStream`). One test per callback kind: whatever
// callback loops, the VM fails with a report naming it and the limit, and no stream waits forever.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "../../src/testing";
import { compileWat } from "../host/core/wat";

const LIMIT_MS = 250;
const GET = { ":method": "GET", ":path": "/", ":authority": "h" };

/** Serialized header pairs (§3.2) for an HTTP callout: :method, :path, :authority. */
function calloutHeaderPairs(): string {
  const pairs: [string, string][] = [[":method", "GET"], [":path", "/check"], [":authority", "auth"]];
  const bytes: number[] = [];
  const u32 = (n: number) => bytes.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  u32(pairs.length);
  for (const [k, v] of pairs) (u32(k.length), u32(v.length));
  for (const [k, v] of pairs) for (const c of `${k}\0${v}\0`) bytes.push(c.charCodeAt(0));
  return bytes.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
}
const PAIRS = calloutHeaderPairs();
const PAIRS_SIZE = PAIRS.length / 3;

/** A 0.2.1 module implementing every callback plainly, except `looping`, which spins forever. */
function moduleLoopingIn(looping: string): Uint8Array {
  const spin = (name: string) => (name === looping ? "(call $spin)" : "");
  return compileWat(`(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func $register (param i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 100) "c")
  (data (i32.const 110) "q")
  (data (i32.const 400) "${PAIRS}")
  (func (export "proxy_abi_version_0_2_1"))
  (func $spin (loop $forever (br $forever)))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "_initialize") ${spin("_initialize")})
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) ${spin("proxy_on_vm_start")}
    ${looping === "proxy_on_tick" ? "(drop (call $tick (i32.const 1000)))" : ""}
    (drop (call $register (i32.const 110) (i32.const 1) (i32.const 300)))
    (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) ${spin("proxy_on_configure")} (i32.const 1))
  (func (export "proxy_on_context_create") (param $id i32) (param i32)
    ${looping === "proxy_on_context_create" ? "(if (i32.ne (local.get $id) (i32.const 1)) (then (call $spin)))" : ""})
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) ${spin("proxy_on_request_headers")}
    ${looping === "proxy_on_http_call_response" ? `(drop (call $http_call (i32.const 100) (i32.const 1) (i32.const 400) (i32.const ${PAIRS_SIZE}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 304))) (return (i32.const 1))` : ""}
    ${looping === "proxy_on_queue_ready" ? "(drop (call $enqueue (i32.load (i32.const 300)) (i32.const 110) (i32.const 1)))" : ""}
    (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) ${spin("proxy_on_request_body")} (i32.const 0))
  (func (export "proxy_on_request_trailers") (param i32 i32) (result i32) ${spin("proxy_on_request_trailers")} (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) ${spin("proxy_on_response_headers")} (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) ${spin("proxy_on_response_body")} (i32.const 0))
  (func (export "proxy_on_response_trailers") (param i32 i32) (result i32) ${spin("proxy_on_response_trailers")} (i32.const 0))
  (func (export "proxy_on_log") (param i32) ${spin("proxy_on_log")})
  (func (export "proxy_on_done") (param i32) (result i32) ${spin("proxy_on_done")} (i32.const 1))
  (func (export "proxy_on_delete") (param i32) ${spin("proxy_on_delete")})
  (func (export "proxy_on_tick") (param i32) ${spin("proxy_on_tick")})
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32) ${spin("proxy_on_http_call_response")})
  (func (export "proxy_on_queue_ready") (param i32 i32) ${spin("proxy_on_queue_ready")})
  (func (export "proxy_on_new_connection") (param i32) (result i32) ${spin("proxy_on_new_connection")} (i32.const 0))
  (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) ${spin("proxy_on_downstream_data")} (i32.const 0))
  (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32) ${spin("proxy_on_upstream_data")} (i32.const 0))
  (func (export "proxy_on_downstream_connection_close") (param i32 i32))
  (func (export "proxy_on_upstream_connection_close") (param i32 i32))
)`, `loop-in-${looping}.wat`);
}

function hostLoopingIn(callback: string): TestHost {
  return createTestHost({ wasm: moduleLoopingIn(callback), callbackTimeLimitMs: LIMIT_MS, clusters: ["c"] });
}

/** The VM failed because `callback` hit the time limit, and the report says so. */
function assertStoppedIn(host: TestHost, callback: string): void {
  assert.equal(host.vm.failure?.timedOut, true, `${callback} was stopped by the time limit`);
  assert.equal(host.vm.failure?.callback, callback);
  assert.equal(host.failure?.split("\n")[0], `Function: ${callback} failed: callback time limit (${LIMIT_MS} ms) exceeded`);
  assert.ok(host.logs.at("error").includes(host.failure ?? ""), "the report is logged at error");
}

/** After the failure, new streams are failed closed at once (no callback into the failed VM). */
function assertLaterStreamsFailClosed(host: TestHost): void {
  const later = host.flow({ request: { headers: GET } });
  assert.equal(later.downstream.status, 503);
  assert.equal(later.upstream.headers, null);
}

function assertStartRefused(callback: string): void {
  assert.throws(() => hostLoopingIn(callback), (error: Error) => {
    assert.equal(error.name, "PluginStartError", error.message);
    assert.ok(error.message.includes(`Function: ${callback} failed: callback time limit (${LIMIT_MS} ms) exceeded`), error.message);
    return true;
  });
}

test("endless loop in _initialize: the plugin fails to start with the time-limit report", () => {
  assertStartRefused("_initialize");
});

test("endless loop in proxy_on_vm_start: the plugin fails to start with the time-limit report", () => {
  assertStartRefused("proxy_on_vm_start");
});

test("endless loop in proxy_on_configure: the plugin fails to start with the time-limit report", () => {
  assertStartRefused("proxy_on_configure");
});

test("endless loop in proxy_on_context_create of a stream: the stream is failed closed with 503", () => {
  const host = hostLoopingIn("proxy_on_context_create");
  const stream = host.http();
  stream.requestHeaders(GET, { endOfStream: true });
  assertStoppedIn(host, "proxy_on_context_create");
  assert.equal(stream.localResponse?.status, 503);
  assert.equal(stream.localResponse?.details, "wasm_fail_stream");
  assertLaterStreamsFailClosed(host);
});

function loopOnRequestSide(callback: string): void {
  const host = hostLoopingIn(callback);
  const stream = host.http();
  const result =
    callback === "proxy_on_request_headers"
      ? stream.requestHeaders(GET, { endOfStream: true })
      : (stream.requestHeaders({ ...GET, "content-length": "4" }),
        callback === "proxy_on_request_body" ? stream.requestBody("body", { endOfStream: true }) : stream.requestTrailers({ t: "1" }));
  assertStoppedIn(host, callback);
  assert.match(String(result), /^Stop/);
  assert.equal(stream.localResponse?.status, 503);
  assert.equal(stream.localResponse?.details, "wasm_fail_stream");
  assert.deepEqual(stream.downstream.headers?.[0], [":status", "503"]);
  assertLaterStreamsFailClosed(host);
}

test("endless loop in proxy_on_request_headers: 503 wasm_fail_stream, later streams 503", () => {
  loopOnRequestSide("proxy_on_request_headers");
});

test("endless loop in proxy_on_request_body: 503 wasm_fail_stream, later streams 503", () => {
  loopOnRequestSide("proxy_on_request_body");
});

test("endless loop in proxy_on_request_trailers: 503 wasm_fail_stream, later streams 503", () => {
  loopOnRequestSide("proxy_on_request_trailers");
});

function loopOnResponseSide(callback: string): void {
  const host = hostLoopingIn(callback);
  const stream = host.http();
  assert.equal(stream.requestHeaders(GET, { endOfStream: true }), "Continue");
  if (callback === "proxy_on_response_headers") stream.responseHeaders({ ":status": "200" }, { endOfStream: true });
  else {
    stream.responseHeaders({ ":status": "200", "content-length": "4" });
    if (callback === "proxy_on_response_body") stream.responseBody("body", { endOfStream: true });
    else stream.responseTrailers({ t: "1" });
  }
  assertStoppedIn(host, callback);
  assertLaterStreamsFailClosed(host);
}

test("endless loop in proxy_on_response_headers: the stream is failed, later streams 503", () => {
  loopOnResponseSide("proxy_on_response_headers");
});

test("endless loop in proxy_on_response_body: the stream is failed, later streams 503", () => {
  loopOnResponseSide("proxy_on_response_body");
});

test("endless loop in proxy_on_response_trailers: the stream is failed, later streams 503", () => {
  loopOnResponseSide("proxy_on_response_trailers");
});

function loopAtStreamEnd(callback: string): void {
  const host = hostLoopingIn(callback);
  const done = host.flow({ request: { headers: GET }, response: { headers: { ":status": "204" } } });
  assert.equal(done.downstream.status, 204, "the response was already on its way");
  assertStoppedIn(host, callback);
  assertLaterStreamsFailClosed(host);
}

test("endless loop in proxy_on_log: the finished stream keeps its response, later streams 503", () => {
  loopAtStreamEnd("proxy_on_log");
});

test("endless loop in proxy_on_done: the finished stream keeps its response, later streams 503", () => {
  loopAtStreamEnd("proxy_on_done");
});

test("endless loop in proxy_on_delete: the finished stream keeps its response, later streams 503", () => {
  loopAtStreamEnd("proxy_on_delete");
});

test("endless loop in proxy_on_tick: the VM fails on the tick, later streams 503", () => {
  const host = hostLoopingIn("proxy_on_tick");
  host.advanceTime(1000);
  assertStoppedIn(host, "proxy_on_tick");
  assertLaterStreamsFailClosed(host);
});

// What the stream paused on the callout then gets is one of issue #12's own fixes (a VM failure in
// a root callback must not leave streams waiting); here only the VM failure is pinned.
test("endless loop in proxy_on_http_call_response: the VM fails on the callout's answer, later streams 503", () => {
  const host = hostLoopingIn("proxy_on_http_call_response");
  const stream = host.http();
  assert.equal(stream.requestHeaders(GET, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.equal(host.callouts.pendingHttp.length, 1);
  host.callouts.pendingHttp[0].respond({ status: 200 });
  assertStoppedIn(host, "proxy_on_http_call_response");
  assertLaterStreamsFailClosed(host);
});

test("endless loop in proxy_on_queue_ready: the VM fails on the notification, later streams 503", () => {
  const host = hostLoopingIn("proxy_on_queue_ready");
  assert.equal(host.flow({ request: { headers: GET } }).downstream.status, 200);
  assert.equal(host.flushQueues(), 1);
  assertStoppedIn(host, "proxy_on_queue_ready");
  assertLaterStreamsFailClosed(host);
});

function loopOnConnection(callback: string): void {
  const host = hostLoopingIn(callback);
  const connection = host.tcp();
  connection.newConnection();
  if (callback !== "proxy_on_new_connection") {
    if (callback === "proxy_on_downstream_data") connection.downstreamData("ping");
    else connection.upstreamData("pong");
  }
  assertStoppedIn(host, callback);
  assert.equal(connection.finished, true, "fail closed closes the connection");
  const next = host.tcp();
  next.newConnection();
  assert.equal(next.finished, true, "a later connection is closed at once");
}

test("endless loop in proxy_on_new_connection: the connection is closed, later connections too", () => {
  loopOnConnection("proxy_on_new_connection");
});

test("endless loop in proxy_on_downstream_data: the connection is closed, later connections too", () => {
  loopOnConnection("proxy_on_downstream_data");
});

test("endless loop in proxy_on_upstream_data: the connection is closed, later connections too", () => {
  loopOnConnection("proxy_on_upstream_data");
});
