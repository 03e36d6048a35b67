import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../src/testing";
import { compileWat } from "../host/core/wat";

// Loops forever in proxy_on_request_headers when the request has a header `loop`; counts loop
// iterations in a global otherwise bounded by the header count.
const LOOPING = compileWat(`(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 100) "loop")
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func $spin (loop $forever (br $forever)))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get (i32.const 0) (i32.const 100) (i32.const 4) (i32.const 200) (i32.const 204)))
      (then (call $spin)))
    (i32.const 0))
)`, "looping.wat");

test("callbackTimeLimitMs: a looping callback fails the VM with the limit in the report, and the stream gets the failure policy", () => {
  const host = createTestHost({ wasm: LOOPING, callbackTimeLimitMs: 100 });
  const fine = host.http();
  assert.equal(fine.requestHeaders({ ":path": "/" }, { endOfStream: true }), "Continue");
  fine.complete();
  assert.equal(host.failure, null);

  const stuck = host.http();
  stuck.requestHeaders({ ":path": "/", loop: "1" }, { endOfStream: true });
  const failure = host.vm.failure;
  assert.ok(failure !== null);
  assert.equal(failure.timedOut, true);
  assert.equal(failure.callback, "proxy_on_request_headers");
  assert.equal(host.failure, failure.report);
  const report = failure.report.split("\n");
  assert.equal(report[0], "Function: proxy_on_request_headers failed: callback time limit (100 ms) exceeded");
  // The in-VM backtrace still names the function that was looping.
  assert.ok(report.some((line) => / - \$?spin$/.test(line)), report.join("\n"));
  assert.ok(host.logs.at("error").some((line) => line.startsWith("Function: proxy_on_request_headers failed: callback time limit (100 ms) exceeded")));
  // fail_closed (the default): Envoy's local reply for a failed VM.
  assert.equal(stuck.localResponse?.status, 503);
  assert.equal(stuck.localResponse?.details, "wasm_fail_stream");
});

test("callbackTimeLimitMs: a filter's own trap is still reported as its trap, not as the time limit", () => {
  const trapping = compileWat(`(module
    (memory (export "memory") 1)
    (func (export "proxy_abi_version_0_2_0"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) unreachable)
  )`);
  const host = createTestHost({ wasm: trapping, callbackTimeLimitMs: 100 });
  host.http().requestHeaders({ ":path": "/" }, { endOfStream: true });
  assert.equal(host.vm.failure?.timedOut, false);
  assert.equal(host.failure?.split("\n")[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
});

test("callbackTimeLimitMs: add_header answers exactly as without the limit", () => {
  const wasm = new URL("../../examples/add_header/build/add_header.wasm", import.meta.url);
  const flow = (callbackTimeLimitMs: number) =>
    createTestHost({ wasm, pluginConfig: { name: "x-wasm", value: "yes" }, callbackTimeLimitMs }).flow({
      request: { headers: [[":method", "GET"], [":path", "/"], [":authority", "a"]] },
      response: { headers: [[":status", "302"], ["location", "http://elsewhere/"]] },
    });
  const limited = flow(1000);
  assert.deepEqual(limited.downstream.headers, [[":status", "302"], ["location", "envoy-wasm"], ["x-wasm", "yes"], ["hello", "world!"]]);
  const plain = flow(0);
  assert.deepEqual(limited.upstream.headers, plain.upstream.headers);
  assert.deepEqual(limited.downstream.headers, plain.downstream.headers);
  assert.equal(limited.localResponse, null);
});
