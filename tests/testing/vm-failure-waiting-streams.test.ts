/**
 * A VM that fails in a root callback (HTTP callout response, gRPC callbacks, tick, queue ready),
 * by a trap or by the callback time limit, while streams are paused in the filter waiting on it:
 * every such stream is answered by its failure policy at once.
 *
 * Envoy leaves such a stream waiting: cpp-host `src/context.cc` `ContextBase::onHttpCallResponse`
 * (and `onGrpcReceive`, `onGrpcClose`, `onTick`, `onQueueReady`) only checks `isFailed()` before
 * calling in, and the VM's fail callbacks (`src/wasm.cc` `addFailCallback`) only drop the VM from
 * the cache; the policy (`CHECK_FAIL_HTTP` -> envoy `context.cc` `Context::failStream`: local
 * reply 503, gRPC UNAVAILABLE, details `wasm_fail_stream`) is applied only at the stream's next
 * filter callback, which a paused stream never gets before its idle timeout. This host applies it
 * as soon as the failing callback returned (the deliberate difference the isolation issue asks
 * for); a stream that is not paused in the filter still gets it at its next event, as in Envoy.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTestHost, type TestHost } from "../../src/testing";
import { HeaderMap, type GrpcCallout } from "../../src/host";
import { compileWat } from "../host/core/wat";

/** Proxy-Wasm pairs bytes as a WAT data string. */
function pairsData(pairs: [string, string][]): { data: string; size: number } {
  const bytes: number[] = [];
  const u32 = (n: number) => bytes.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
  u32(pairs.length);
  for (const [k, v] of pairs) {
    u32(Buffer.byteLength(k));
    u32(Buffer.byteLength(v));
  }
  for (const [k, v] of pairs) bytes.push(...Buffer.from(k), 0, ...Buffer.from(v), 0);
  return { data: bytes.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join(""), size: bytes.length };
}

const CALL_HEADERS = pairsData([
  [":method", "GET"],
  [":path", "/check"],
  [":authority", "auth"],
]);

/**
 * A request pauses in its headers after starting an HTTP callout to `auth`, a gRPC call and a gRPC
 * stream to `grpc` (`pkg.Auth/Check`); a request with a `pause-response` header goes on at once, and its
 * response pauses in its headers instead. A TCP connection holds back everything the client sends.
 * Every root callback (callout response, gRPC receive/metadata/close, tick, queue ready) fails:
 * `unreachable`, or a loop that never ends when the plugin configuration starts with `l`. The tick
 * period (1 s) and the queue `q` are set up at VM start.
 */
const PAUSING = compileWat(`(module
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call" (func $grpc_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_stream" (func $grpc_stream (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func $register (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $header (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 32768))
  (global $loop (mut i32) (i32.const 0))
  (data (i32.const 100) "auth")
  (data (i32.const 110) "grpc")
  (data (i32.const 120) "pkg.Auth")
  (data (i32.const 130) "Check")
  (data (i32.const 140) "ping")
  (data (i32.const 150) "q")
  (data (i32.const 160) "pause-response")
  (data (i32.const 1024) "${CALL_HEADERS.data}")
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $tick_period (i32.const 1000)))
    (drop (call $register (i32.const 150) (i32.const 1) (i32.const 200)))
    (i32.const 1))
  (func (export "proxy_on_configure") (param i32) (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 0))
      (then
        (drop (call $buffer (i32.const 7) (i32.const 0) (i32.const 1) (i32.const 300) (i32.const 304)))
        (global.set $loop (i32.eq (i32.load8_u (i32.load (i32.const 300))) (i32.const 108)))))
    (i32.const 1))
  (func $fail
    (if (global.get $loop) (then (loop $forever (br $forever))))
    unreachable)
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $header (i32.const 0) (i32.const 160) (i32.const 14) (i32.const 500) (i32.const 504)))
      (then (return (i32.const 0))))
    (drop (call $http_call (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const ${CALL_HEADERS.size})
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 400)))
    (drop (call $grpc_call (i32.const 110) (i32.const 4) (i32.const 120) (i32.const 8) (i32.const 130) (i32.const 5)
      (i32.const 0) (i32.const 0) (i32.const 140) (i32.const 4) (i32.const 5000) (i32.const 404)))
    (drop (call $grpc_stream (i32.const 110) (i32.const 4) (i32.const 120) (i32.const 8) (i32.const 130) (i32.const 5)
      (i32.const 0) (i32.const 0) (i32.const 408)))
    (i32.const 1))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32) (call $fail))
  (func (export "proxy_on_grpc_receive") (param i32 i32 i32) (call $fail))
  (func (export "proxy_on_grpc_receive_initial_metadata") (param i32 i32 i32) (call $fail))
  (func (export "proxy_on_grpc_receive_trailing_metadata") (param i32 i32 i32) (call $fail))
  (func (export "proxy_on_grpc_close") (param i32 i32 i32) (call $fail))
  (func (export "proxy_on_tick") (param i32) (call $fail))
  (func (export "proxy_on_queue_ready") (param i32 i32) (call $fail))
)`, "pausing.wat");

type Policy = "fail_closed" | "fail_open";
type How = "trap" | "time limit";

function hostFor(policy: Policy, how: How): TestHost {
  return createTestHost({
    wasm: PAUSING,
    clusters: ["auth", "grpc"],
    failurePolicy: policy,
    pluginConfig: how === "time limit" ? "loop" : "",
    // The module reads the clock only after 10,000 loop or call checks: only the loop reaches it.
    callbackTimeLimitMs: how === "time limit" ? 200 : undefined,
  });
}

/** The one pending gRPC call or stream the paused request started. */
function grpc(host: TestHost, kind: "grpc-call" | "grpc-stream"): GrpcCallout {
  const found = host.callouts.pendingGrpc.filter((callout) => callout.kind === kind);
  assert.equal(found.length, 1);
  return found[0];
}

/** The root callbacks, each made to run once (and fail) while the stream waits. */
const ROOT_CALLBACKS: { name: string; run: (host: TestHost) => void }[] = [
  { name: "proxy_on_http_call_response", run: (host) => host.callouts.pendingHttp[0].respond({ body: "ok" }) },
  { name: "proxy_on_grpc_receive", run: (host) => grpc(host, "grpc-call").receive(new TextEncoder().encode("pong")) },
  { name: "proxy_on_grpc_close", run: (host) => grpc(host, "grpc-call").close(14, "unavailable") },
  { name: "proxy_on_grpc_receive_initial_metadata", run: (host) => grpc(host, "grpc-stream").receiveInitialMetadata(HeaderMap.from({ "x-md": "1" })) },
  { name: "proxy_on_grpc_receive_trailing_metadata", run: (host) => grpc(host, "grpc-stream").receiveTrailingMetadata(HeaderMap.from({ "grpc-status": "0" })) },
  { name: "proxy_on_tick", run: (host) => host.advanceTime(1000) },
  {
    name: "proxy_on_queue_ready",
    run: (host) => {
      const token = host.process.queues.resolve(host.vm.vmId, "q");
      assert.ok(token !== undefined);
      host.process.queues.enqueue(token, new TextEncoder().encode("item"));
      host.flushQueues();
    },
  },
];

for (const how of ["trap", "time limit"] as const) {
  describe(`a root callback failing (${how}) while a request is paused in the filter`, () => {
    for (const { name, run } of ROOT_CALLBACKS) {
      it(`${name}: fail_closed answers the paused stream 503 wasm_fail_stream at once`, () => {
        const host = hostFor("fail_closed", how);
        const paused = host.http();
        assert.equal(paused.requestHeaders({ ":path": "/", ":method": "GET" }, { endOfStream: true }), "StopAllIterationAndWatermark");
        run(host);
        assert.equal(host.vm.failure?.callback, name);
        assert.equal(host.vm.failure?.timedOut, how === "time limit");
        assert.deepEqual(paused.localResponse, { status: 503, details: "wasm_fail_stream", body: "", headers: [], grpcStatus: undefined });
        assert.equal(paused.downstream.status, 503);
        assert.equal(paused.downstream.body, "");
        assert.equal(paused.downstream.ended, true);
        assert.equal(paused.upstream.headers, null);
        paused.complete();
      });

      it(`${name}: fail_open lets the paused stream continue unfiltered at once, with the body it held`, () => {
        const host = hostFor("fail_open", how);
        const paused = host.http();
        paused.requestHeaders({ ":path": "/upload", ":method": "POST" });
        assert.equal(paused.requestBody("held", { endOfStream: true }), "StopAllIterationAndWatermark");
        run(host);
        assert.equal(host.vm.failure?.callback, name);
        assert.equal(paused.localResponse, null);
        assert.deepEqual(paused.upstream.headers, [[":path", "/upload"], [":method", "POST"]]);
        assert.equal(paused.upstream.body, "held");
        assert.equal(paused.upstream.ended, true);
        // The response passes without callbacks.
        paused.responseHeaders({ ":status": "200" }, { endOfStream: true });
        assert.equal(paused.downstream.status, 200);
        assert.equal(paused.downstream.ended, true);
        paused.complete();
      });
    }
  });
}

describe("a root callback failing while streams are in other states", () => {
  it("fail_closed: a gRPC request paused in the filter gets UNAVAILABLE (trailers-only) at once", () => {
    const host = hostFor("fail_closed", "trap");
    const paused = host.http();
    paused.requestHeaders({ ":path": "/pkg.S/M", ":method": "POST", "content-type": "application/grpc" }, { endOfStream: true });
    host.callouts.pendingHttp[0].respond({ body: "ok" });
    assert.deepEqual(paused.downstream.headers, [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "14"]]);
    assert.equal(paused.downstream.ended, true);
  });

  for (const policy of ["fail_closed", "fail_open"] as const) {
    it(`${policy}: a response paused in the filter (its headers not sent yet) is answered at once`, () => {
      const host = hostFor(policy, "trap");
      const stream = host.http();
      assert.equal(stream.requestHeaders({ ":path": "/", "pause-response": "1" }, { endOfStream: true }), "Continue");
      assert.equal(stream.responseHeaders({ ":status": "200", "x-from": "upstream" }, { endOfStream: true }), "StopAllIterationAndWatermark");
      assert.equal(stream.downstream.headers, null);
      host.advanceTime(1000);
      assert.equal(host.vm.failure?.callback, "proxy_on_tick");
      if (policy === "fail_closed") {
        // Envoy's failStream(Response): the encoder's local reply replaces a response not yet sent.
        assert.deepEqual(stream.downstream.headers, [[":status", "503"]]);
        assert.equal(stream.localResponse?.details, "wasm_fail_stream");
      } else {
        assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["x-from", "upstream"]]);
        assert.equal(stream.localResponse, null);
      }
      assert.equal(stream.downstream.ended, true);
      stream.complete();
    });
  }

  it("fail_closed: a stream that is not paused in the filter gets the policy at its next event, as in Envoy", () => {
    const host = hostFor("fail_closed", "trap");
    const waitingUpstream = host.http();
    waitingUpstream.requestHeaders({ ":path": "/a", "pause-response": "1" }, { endOfStream: true });
    assert.equal(waitingUpstream.upstream.ended, true);
    host.advanceTime(1000);
    assert.equal(host.vm.failure?.callback, "proxy_on_tick");
    // Nothing of it waits on the VM: the upstream's response decides when the policy applies.
    assert.equal(waitingUpstream.downstream.headers, null);
    assert.equal(waitingUpstream.responseHeaders({ ":status": "200" }, { endOfStream: true }), "StopAllIterationAndWatermark");
    assert.deepEqual(waitingUpstream.downstream.headers, [[":status", "503"]]);
    assert.equal(waitingUpstream.localResponse?.details, "wasm_fail_stream");
    // A stream created after the failure is answered by the policy at its first event.
    const later = host.http();
    later.requestHeaders({ ":path": "/b" }, { endOfStream: true });
    assert.equal(later.downstream.status, 503);
    assert.equal(later.localResponse?.details, "wasm_fail_stream");
  });
});

describe("a root callback failing while a TCP connection holds data back", () => {
  for (const policy of ["fail_closed", "fail_open"] as const) {
    it(`${policy}: the held data gets the policy at once`, () => {
      const host = hostFor(policy, "trap");
      const connection = host.tcp();
      assert.equal(connection.newConnection(), "Continue");
      assert.equal(connection.downstreamData("hello"), "StopIteration");
      assert.equal(connection.upstream, "");
      host.advanceTime(1000);
      assert.equal(host.vm.failure?.callback, "proxy_on_tick");
      if (policy === "fail_closed") {
        // Envoy's failStream(Downstream): the connection is closed (FlushWrite); the data is dropped.
        assert.equal(connection.closedByHost, true);
        assert.equal(connection.finished, true);
        assert.equal(connection.upstream, "");
      } else {
        assert.equal(connection.closedByHost, false);
        assert.equal(connection.upstream, "hello");
        assert.equal(connection.downstreamData(" world"), "Continue");
        assert.equal(connection.upstream, "hello world");
      }
    });
  }
});

/**
 * The first stream pauses in its request headers and traps in its body callback. Every later
 * stream passes its headers and holds its first body chunk (StopIterationAndWatermark); with its
 * last chunk it continues the first stream (effective context) and goes on itself.
 */
const CROSS_STREAM = compileWat(`(module
  (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (global $first (mut i32) (i32.const 0))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param $id i32) (param $parent i32)
    (if (i32.and (i32.ne (local.get $parent) (i32.const 0)) (i32.eqz (global.get $first)))
      (then (global.set $first (local.get $id)))))
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    (i32.eq (local.get $id) (global.get $first)))
  (func (export "proxy_on_request_body") (param $id i32) (param i32) (param $end i32) (result i32)
    (if (i32.eq (local.get $id) (global.get $first)) (then unreachable))
    (if (i32.eqz (local.get $end)) (then (return (i32.const 2))))
    (drop (call $effective (global.get $first)))
    (drop (call $continue (i32.const 0)))
    (i32.const 0))
)`, "cross-stream.wat");

describe("the VM failing in another stream's callback", () => {
  // Pauses a request with more than one header; traps in the request headers of one with a single header.
  const TRAP_ON_ONE_HEADER = compileWat(`(module
    (memory (export "memory") 1)
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32) (param $headers i32) (param i32) (result i32)
      (if (i32.eq (local.get $headers) (i32.const 1)) (then unreachable))
      (i32.const 1))
  )`, "trap-on-one-header.wat");

  for (const policy of ["fail_closed", "fail_open"] as const) {
    it(`${policy}: a stream paused in the filter is answered at once, not only the one that trapped`, () => {
      const host = createTestHost({ wasm: TRAP_ON_ONE_HEADER, failurePolicy: policy });
      const waiting = host.http();
      assert.equal(waiting.requestHeaders({ ":path": "/waiting", ":method": "POST" }), "StopAllIterationAndWatermark");
      assert.equal(waiting.requestBody("held"), "StopAllIterationAndWatermark");
      const trapping = host.http();
      trapping.requestHeaders({ ":path": "/boom" }, { endOfStream: true });
      assert.equal(host.vm.failure?.callback, "proxy_on_request_headers");
      if (policy === "fail_closed") {
        assert.equal(trapping.downstream.status, 503);
        assert.equal(waiting.downstream.status, 503);
        assert.equal(waiting.localResponse?.details, "wasm_fail_stream");
        assert.equal(waiting.upstream.headers, null);
      } else {
        assert.equal(trapping.upstream.ended, true);
        assert.deepEqual(waiting.upstream.headers, [[":path", "/waiting"], [":method", "POST"]]);
        assert.equal(waiting.upstream.body, "held");
        assert.equal(waiting.upstream.ended, false);
      }
    });
  }

  it("fail_open: the running stream loses nothing (it applies the policy itself when its call returns)", () => {
    const host = createTestHost({ wasm: CROSS_STREAM, failurePolicy: "fail_open" });
    const first = host.http();
    first.requestHeaders({ ":path": "/first", ":method": "POST" });
    assert.equal(first.requestBody("held", { endOfStream: true }), "StopAllIterationAndWatermark");
    const second = host.http();
    assert.equal(second.requestHeaders({ ":path": "/second", ":method": "POST" }), "Continue");
    assert.equal(second.requestBody("one,"), "StopIterationAndWatermark");
    // Its last chunk continues the first stream, whose body callback then traps.
    second.requestBody("two", { endOfStream: true });
    assert.equal(host.vm.failure?.callback, "proxy_on_request_body");
    assert.equal(second.upstream.body, "one,two");
    assert.equal(second.upstream.ended, true);
    assert.equal(first.upstream.body, "held");
    assert.equal(first.upstream.ended, true);
  });
});

/** Buffers the response body (StopIterationAndBuffer) after passing the response headers; its tick (every second) traps. */
const BUFFERING_RESPONSE = compileWat(`(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $tick_period (i32.const 1000)))
    (i32.const 1))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_tick") (param i32) unreachable)
)`, "buffering-response.wat");

describe("a root callback failing while a started response is paused in the filter", () => {
  for (const policy of ["fail_closed", "fail_open"] as const) {
    it(`${policy}: ${policy === "fail_closed" ? "the stream is reset (a 503 can no longer be sent)" : "the held body goes on"}`, () => {
      const host = createTestHost({ wasm: BUFFERING_RESPONSE, failurePolicy: policy });
      const stream = host.http();
      stream.requestHeaders({ ":path": "/" }, { endOfStream: true });
      stream.responseHeaders({ ":status": "200" });
      assert.equal(stream.responseBody("part"), "StopIterationAndBuffer");
      assert.deepEqual(stream.downstream.headers, [[":status", "200"]]);
      host.advanceTime(1000);
      assert.equal(host.vm.failure?.callback, "proxy_on_tick");
      if (policy === "fail_closed") {
        // Envoy's failStream(Response) calls sendLocalReply after the headers went out: a reset.
        assert.equal(stream.resetDetails, "wasm_fail_stream");
        assert.equal(stream.downstream.body, "");
        assert.equal(stream.downstream.ended, false);
      } else {
        assert.equal(stream.resetDetails, null);
        assert.equal(stream.downstream.body, "part");
        assert.equal(stream.downstream.ended, false);
        stream.responseBody("rest", { endOfStream: true });
        assert.equal(stream.downstream.body, "partrest");
        assert.equal(stream.downstream.ended, true);
      }
    });
  }
});

const RESUME_THEN_TRAP_HEADERS = pairsData([
  [":method", "GET"],
  [":path", "/check"],
  [":authority", "auth"],
]);

/** Pauses each request on a callout; the callout response continues the request, then traps. */
const RESUME_THEN_TRAP = compileWat(`(module
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $stream (mut i32) (i32.const 0))
  (data (i32.const 100) "auth")
  (data (i32.const 1024) "${RESUME_THEN_TRAP_HEADERS.data}")
  (func (export "malloc") (param i32) (result i32) (i32.const 8192))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    (global.set $stream (local.get $id))
    (drop (call $http_call (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const ${RESUME_THEN_TRAP_HEADERS.size})
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 400)))
    (i32.const 1))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
    (drop (call $effective (global.get $stream)))
    (drop (call $continue (i32.const 0)))
    unreachable)
)`, "resume-then-trap.wat");

describe("a root callback that resumes the stream and then fails", () => {
  // cpp-host runs the deferred actions after the call whatever happened in it
  // (src/context.cc `DeferAfterCallActions::~DeferAfterCallActions`): the continue is applied, and
  // the stream, no longer paused, meets the policy at its next event (`CHECK_FAIL_HTTP`).
  it("fail_closed: the request goes on upstream; the response is replaced by the 503", () => {
    const host = createTestHost({ wasm: RESUME_THEN_TRAP, clusters: ["auth"], failurePolicy: "fail_closed" });
    const stream = host.http();
    assert.equal(stream.requestHeaders({ ":path": "/" }, { endOfStream: true }), "StopAllIterationAndWatermark");
    host.callouts.pendingHttp[0].respond({ body: "ok" });
    assert.equal(host.vm.failure?.callback, "proxy_on_http_call_response");
    assert.equal(stream.upstream.ended, true);
    assert.equal(stream.downstream.headers, null);
    assert.equal(stream.responseHeaders({ ":status": "200" }, { endOfStream: true }), "StopAllIterationAndWatermark");
    assert.deepEqual(stream.downstream.headers, [[":status", "503"]]);
    assert.equal(stream.localResponse?.details, "wasm_fail_stream");
  });
});
