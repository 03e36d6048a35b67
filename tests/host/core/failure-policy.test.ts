import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { fixture } from "./wat";

const TRAP = fixture("trap.wat");
const GET = [[":method", "GET"], [":path", "/"], [":authority", "h"]] as [string, string][];

test("§4.10: a trap fails the VM; fail closed answers 503 wasm_fail_stream, also for later streams", () => {
  const host = createTestHost({ wasm: TRAP, pluginName: "trap" });
  const first = host.http();
  assert.equal(first.requestHeaders([...GET, ["x-trap", "1"]], { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.deepEqual(first.localResponse, { status: 503, details: "wasm_fail_stream", body: "", headers: [], grpcStatus: undefined });
  assert.deepEqual(first.downstream.headers, [[":status", "503"]]);
  assert.equal(first.upstream.headers, null);
  const report = host.failure ?? "";
  assert.match(report, /^Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable\n/);
  assert.match(report, /\nabort: boom at assembly\/index.ts:7:3\n/);
  // src/v8/v8.cc `getFailMessage`: the frame number right-aligned in 3 columns.
  assert.match(report, /\nProxy-Wasm plugin in-VM backtrace:\n  0:  0x[0-9a-f]+ - explode\n/);
  assert.ok(host.logs.at("error").includes(report));
  const second = host.flow({ request: { headers: GET } });
  assert.equal(second.downstream.status, 503);
  assert.equal(second.upstream.headers, null);
});

test("§4.10: a gRPC request failed closed carries grpc-status 14", () => {
  const host = createTestHost({ wasm: TRAP });
  const stream = host.http();
  stream.requestHeaders([...GET, ["content-type", "application/grpc"], ["x-trap", "1"]]);
  assert.equal(stream.localResponse?.grpcStatus, 14);
  assert.equal(stream.downstream.header("grpc-status"), "14");
});

test("§4.10: fail open lets traffic through unmodified once the VM failed", () => {
  const host = createTestHost({ wasm: TRAP, failurePolicy: "fail_open" });
  const first = host.http();
  assert.equal(first.requestHeaders([...GET, ["x-trap", "1"]], { endOfStream: true }), "Continue");
  assert.equal(first.localResponse, null);
  assert.deepEqual(first.upstream.headers, [...GET, ["x-trap", "1"]]);
  const second = host.flow({ request: { headers: GET }, response: { headers: { ":status": "204" } } });
  assert.equal(second.downstream.status, 204);
});

test("§4.10: fail reload creates a new VM after the back-off; context ids restart", () => {
  const host = createTestHost({ wasm: TRAP, failurePolicy: "fail_reload", reloadBackoffMs: 1000 });
  host.http().requestHeaders([...GET, ["x-trap", "1"]], { endOfStream: true });
  assert.equal(host.flow({ request: { headers: GET } }).downstream.status, 503, "still failed before the back-off");
  host.advanceTime(1000);
  const after = host.flow({ request: { headers: GET } });
  assert.equal(after.downstream.status, 200);
  assert.equal(after.stream.contextId, 2);
  assert.equal(host.host.reloads, 1);
  assert.equal(host.failure, null);
});

test("§4.1: a hostcall outside the restricted set during _initialize fails the start", () => {
  assert.throws(() => createTestHost({ wasm: fixture("restricted-start.wat") }), {
    name: "PluginStartError",
    message: /Failed to initialize Wasm code\nFunction: _initialize failed: Uncaught RestrictedCallError: restricted_callback: proxy_set_tick_period_milliseconds/,
  });
});
