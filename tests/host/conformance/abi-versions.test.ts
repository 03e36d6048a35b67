/**
 * Reference §1.2–§1.4: the ABI 0.1.0 and 0.2.0 code paths (callback arity, version-specific
 * hostcalls, missing-header results, which imports link).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { conformanceModule, OUT } from "./conformance-module";

const CONFIG = `(call $proxy_get_configuration (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`;

const V010 = conformanceModule((w) => `
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    ${w.log("vm_start_config", CONFIG)}
    ${w.logOut()}
    (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("configure_config", CONFIG)}
    ${w.logOut()}
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (result i32)
    ${w.log("request_headers", "(local.get $n)")}
    (i32.store (i32.const ${OUT.ptr}) (i32.const -1))
    (i32.store (i32.const ${OUT.size}) (i32.const -1))
    ${w.log("missing_header", `(call $proxy_get_header_map_value (i32.const 0) ${w.str("x-none")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.logU32("ptr", OUT.ptr)}
    ${w.logU32("size", OUT.size)}
    ${w.log("unavailable_map", `(call $proxy_get_header_map_value (i32.const 2) ${w.str("x")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.log("clear_route_cache", "(call $proxy_clear_route_cache)")}
    ${w.log("stream_config", CONFIG)}
    ${w.logOut()}
    ${w.log("tick", "(call $proxy_set_tick_period_milliseconds (i32.const 10))")}
    (i32.const 1))
  (func (export "proxy_on_tick") (param $root i32)
    ${w.log("effective", "(call $proxy_set_effective_context (i32.const 2))")}
    ${w.log("continue_request", "(call $proxy_continue_request)")}
    (drop (call $proxy_set_tick_period_milliseconds (i32.const 0))))
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (result i32)
    ${w.log("response_headers", "(local.get $n)")}
    ${w.log("continue_response", "(call $proxy_continue_response)")}
    (i32.const 0))
  (func (export "proxy_on_log") (param $id i32)
    ${w.log("log_missing_map", `(call $proxy_get_header_map_value (i32.const 1) ${w.str("x")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)})
`, "0.1.0");

test("§1.2/§5.16: 0.1.0 proxy_get_configuration returns the VM config in on_vm_start and stream callbacks, the plugin config in on_configure", () => {
  const host = createTestHost({ wasm: V010, vmConfig: "vm", pluginConfig: "plugin" });
  assert.deepEqual(host.logs.messages, ["vm_start_config=0", "vm", "configure_config=0", "plugin"]);
});

test("§1.2/§4.11/§5.6: 0.1.0 two-argument header callbacks, missing header Ok+empty, continue_request/response, clear_route_cache", () => {
  const host = createTestHost({ wasm: V010, vmConfig: "vm" });
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ":path": "/", ":method": "GET" }, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.deepEqual(host.logs.messages, [
    "request_headers=2",
    "missing_header=0",
    "ptr=0",
    "size=0",
    "unavailable_map=2",
    "clear_route_cache=0",
    "stream_config=0",
    "vm",
    "tick=0",
  ]);
  assert.deepEqual(host.process.foreignFunctions.recorded.map((r) => [r.name, r.contextId]), [["clear_route_cache", 2]]);
  assert.equal(stream.upstream.headers, null);
  host.logs.clear();
  host.advanceTime(10);
  assert.deepEqual(host.logs.messages, ["effective=0", "continue_request=0"]);
  assert.deepEqual(stream.upstream.headers, [[":path", "/"], [":method", "GET"]], "continued after the tick returned");
  host.logs.clear();
  stream.responseHeaders({ ":status": "200" }, { endOfStream: true });
  stream.complete();
  assert.deepEqual(host.logs.messages, ["response_headers=1", "continue_response=0", "log_missing_map=0"]);
  assert.equal(stream.downstream.status, 200);
});

const V020 = conformanceModule((w) => `
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("plugin_config", `(call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const -1) (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.logOut()}
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("request_headers", "(local.get $n)")}
    ${w.log("eos", "(local.get $eos)")}
    ${w.log("missing_header", `(call $proxy_get_header_map_value (i32.const 0) ${w.str("x-none")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.log("continue_stream", "(call $proxy_continue_stream (i32.const 0))")}
    (i32.const 0))
  (func (export "proxy_on_log") (param $id i32)
    ${w.log("log_missing_map", `(call $proxy_get_header_map_value (i32.const 1) ${w.str("x")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)})
`, "0.2.0");

test("§1.2: 0.2.0 three-argument header callbacks, buffer 7 for config, missing header NotFound, missing map in on_log NotFound", () => {
  const host = createTestHost({ wasm: V020, pluginConfig: "cfg" });
  assert.deepEqual(host.logs.messages, ["plugin_config=0", "cfg"]);
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ":path": "/" }, { endOfStream: true }), "Continue");
  stream.complete();
  assert.deepEqual(host.logs.messages, ["request_headers=1", "eos=1", "missing_header=1", "continue_stream=0", "log_missing_map=1"]);
});

test("§1.3: 0.2.0 has no proxy_get_log_level and 0.1.0 has no proxy_continue_stream: such modules fail to load", () => {
  const logLevel020 = conformanceModule(() => `
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    (drop (call $proxy_get_log_level (i32.const ${OUT.extra})))
    (i32.const 1))`, "0.2.0");
  assert.throws(() => createTestHost({ wasm: logLevel020 }), /proxy_get_log_level/);
  const continue010 = conformanceModule(() => `
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    (drop (call $proxy_continue_stream (i32.const 0)))
    (i32.const 1))`, "0.1.0");
  assert.throws(() => createTestHost({ wasm: continue010 }), /proxy_continue_stream/);
  const logLevel021 = conformanceModule((w) => `
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    ${w.log("get_log_level", `(call $proxy_get_log_level (i32.const ${OUT.extra}))`)}
    ${w.logU32("level", OUT.extra)}
    (i32.const 1))`);
  assert.deepEqual(createTestHost({ wasm: logLevel021, logLevel: "debug" }).logs.messages, ["get_log_level=0", "level=1"]);
});
