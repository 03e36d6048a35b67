/**
 * Reference §4.3 (root start and configuration), §4.5 (HTTP order), §4.7 (root shutdown and
 * proxy_done), §4.8 (headers StopIteration conversion) and §5.3 (timers).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { PluginStartError as HostPluginStartError } from "../../../src/host";
import { conformanceModule, OUT } from "./conformance-module";

const READ_BUFFER = (type: number) => `(call $proxy_get_buffer_bytes (i32.const ${type}) (i32.const 0) (i32.const -1) (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`;

const START = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param $id i32) (param $parent i32)
    ${w.log("create", "(local.get $id)")}
    ${w.log("create_plugin_config", READ_BUFFER(7))})
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    ${w.log("vm_start_root", "(local.get $root)")}
    ${w.log("vm_config_size", "(local.get $size)")}
    ${w.log("vm_config", READ_BUFFER(6))}
    ${w.logOut()}
    ${w.log("plugin_config_in_vm_start", READ_BUFFER(7))}
    ${w.log("done_not_pending", "(call $proxy_done)")}
    (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("configure_size", "(local.get $size)")}
    ${w.log("plugin_config", READ_BUFFER(7))}
    ${w.logOut()}
    ${w.log("write_plugin_config", `(call $proxy_set_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 0) ${w.str("x")})`)}
    ${w.log("write_vm_config", `(call $proxy_set_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 0) ${w.str("x")})`)}
    ${w.log("buffer_bad_type", READ_BUFFER(9))}
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("vm_config_in_stream", READ_BUFFER(6))}
    ${w.log("plugin_config_in_stream", READ_BUFFER(7))}
    (i32.const 0))
`);

test("§4.3: create, vm_start(root id, vm config size), configure; buffer 7 only in create and configure; 6 everywhere, both read-only", () => {
  const host = createTestHost({ wasm: START, vmConfig: "vm-cfg", pluginConfig: "plugin-cfg" });
  assert.deepEqual(host.logs.messages, [
    "create=1",
    "create_plugin_config=0",
    "vm_start_root=1",
    "vm_config_size=6",
    "vm_config=0",
    "vm-cfg",
    "plugin_config_in_vm_start=1",
    "done_not_pending=1",
    "configure_size=10",
    "plugin_config=0",
    "plugin-cfg",
    "write_plugin_config=2",
    "write_vm_config=2",
    "buffer_bad_type=2",
  ]);
  host.logs.clear();
  host.http().requestHeaders({ ":path": "/" });
  assert.deepEqual(host.logs.messages, ["create=2", "create_plugin_config=1", "vm_config_in_stream=0", "plugin_config_in_stream=1"]);
});

const REJECT = (stage: "vm_start" | "configure") => conformanceModule(() => `
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32) (i32.const ${stage === "vm_start" ? 0 : 1}))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32) (i32.const 0))
`);

test("§4.10: on_vm_start or on_configure returning 0 rejects the plugin with the stage named", () => {
  assert.throws(() => createTestHost({ wasm: REJECT("vm_start") }), (error: unknown) => error instanceof HostPluginStartError && error.stage === "vm_start" && error.message === "Failed to start base Wasm in proxy_on_vm_start");
  assert.throws(() => createTestHost({ wasm: REJECT("configure") }), (error: unknown) => error instanceof HostPluginStartError && error.stage === "configure" && error.message === "Failed to configure Wasm plugin in proxy_on_configure");
});

const DONE_LATER = conformanceModule((w) => `
  (global $pending (mut i32) (i32.const 0))
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    ${w.log("tick_period", "(call $proxy_set_tick_period_milliseconds (i32.const 10))")}
    (i32.const 1))
  (func (export "proxy_on_tick") (param $root i32)
    ${w.log("tick", "(local.get $root)")}
    (if (global.get $pending) (then
      ${w.log("proxy_done", "(call $proxy_done)")}
      ${w.log("proxy_done_again", "(call $proxy_done)")}
      ${w.say("tick_end")})))
  (func (export "proxy_on_done") (param $id i32) (result i32)
    ${w.log("on_done", "(local.get $id)")}
    (global.set $pending (i32.const 1))
    (i32.const 0))
  (func (export "proxy_on_delete") (param $id i32)
    ${w.log("delete", "(local.get $id)")})
`);

test("§4.7: root on_done returning 0 parks the root; proxy_done from a tick deletes it after the tick returns", () => {
  const host = createTestHost({ wasm: DONE_LATER });
  host.logs.clear();
  host.advanceTime(10);
  assert.deepEqual(host.logs.messages, ["tick=1"]);
  host.logs.clear();
  assert.equal(host.shutdown(), false, "root is pending done");
  assert.equal(host.vm.contexts.has(1), true);
  assert.deepEqual(host.logs.messages, ["on_done=1"]);
  host.logs.clear();
  host.advanceTime(10);
  assert.deepEqual(host.logs.messages, ["tick=1", "proxy_done=0", "proxy_done_again=1", "tick_end", "delete=1"]);
  assert.equal(host.vm.contexts.has(1), false);
  host.logs.clear();
  host.advanceTime(100);
  assert.deepEqual(host.logs.messages, [], "the timer died with the root context");
});

const DONE_NOW = conformanceModule((w) => `
  (func (export "proxy_on_done") (param $id i32) (result i32)
    ${w.log("on_done", "(local.get $id)")}
    (i32.const 1))
  (func (export "proxy_on_delete") (param $id i32)
    ${w.log("delete", "(local.get $id)")})
`);

test("§4.7: root on_done returning non-zero deletes the root at once", () => {
  const host = createTestHost({ wasm: DONE_NOW });
  host.logs.clear();
  assert.equal(host.shutdown(), true);
  assert.deepEqual(host.logs.messages, ["on_done=1", "delete=1"]);
  assert.equal(host.shutdown(), true, "a second shutdown is a no-op");
  assert.deepEqual(host.logs.messages, ["on_done=1", "delete=1"]);
});

const TICKS = conformanceModule((w) => `
  (global $ticks (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("set_tick_from_stream", "(call $proxy_set_tick_period_milliseconds (i32.const 50))")}
    (i32.const 0))
  (func (export "proxy_on_tick") (param $root i32)
    (global.set $ticks (i32.add (global.get $ticks) (i32.const 1)))
    ${w.log("tick_root", "(local.get $root)")}
    (if (i32.eq (global.get $ticks) (i32.const 2)) (then
      ${w.log("cancel", "(call $proxy_set_tick_period_milliseconds (i32.const 0))")})))
`);

test("§5.3: a stream context arms its root's timer; ticks go to the root; period 0 cancels", () => {
  const host = createTestHost({ wasm: TICKS });
  const stream = host.http();
  stream.requestHeaders({ ":path": "/" }, { endOfStream: true });
  stream.complete();
  host.logs.clear();
  host.advanceTime(49);
  assert.deepEqual(host.logs.messages, []);
  host.advanceTime(1);
  assert.deepEqual(host.logs.lines, ["wasm log: tick_root=1"], "root-context log prefix: the tick runs on the root");
  host.advanceTime(1000);
  assert.deepEqual(host.logs.messages, ["tick_root=1", "tick_root=1", "cancel=0"]);
});

const NO_ON_TICK = conformanceModule((w) => `
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    ${w.log("tick_period", "(call $proxy_set_tick_period_milliseconds (i32.const 10))")}
    (i32.const 1))
`);

test("§5.3: without proxy_on_tick the timer is not re-armed", () => {
  const host = createTestHost({ wasm: NO_ON_TICK });
  assert.notEqual(host.host.plugin.root.tickTimer, null, "armed by on_vm_start");
  host.advanceTime(10);
  assert.equal(host.host.plugin.root.tickTimer, null);
});

const PAUSE_HEADERS = conformanceModule((w) => `
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.say("request_headers")}
    (i32.const 1))
  (func (export "proxy_on_request_body") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("request_body", "(local.get $size)")}
    (i32.const 0))
`);

test("§4.8/§7 #11: headers StopIteration becomes StopAllIterationAndWatermark: no body callbacks, nothing forwarded", () => {
  const host = createTestHost({ wasm: PAUSE_HEADERS });
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ":path": "/" }), "StopAllIterationAndWatermark");
  assert.equal(stream.requestBody("abc", { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.deepEqual(host.logs.messages, ["request_headers"]);
  assert.equal(stream.upstream.headers, null);
  assert.equal(stream.heldRequestBody, "abc");
});

test("§4.8: with allow_on_headers_stop_iteration the headers are held but body callbacks continue", () => {
  const host = createTestHost({ wasm: PAUSE_HEADERS, allowOnHeadersStopIteration: true });
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ":path": "/" }), "StopIteration");
  assert.equal(stream.requestBody("abc", { endOfStream: true }), "Continue");
  assert.deepEqual(host.logs.messages, ["request_headers", "request_body=3"]);
  assert.deepEqual(stream.upstream.headers, [[":path", "/"]], "a body Continue releases the held headers with it");
  assert.equal(stream.upstream.body, "abc");
});

/** Holds the request headers (StopIteration), then reads them from proxy_on_delete; `withLog` adds proxy_on_log. */
const READ_IN_DELETE = (withLog: boolean) =>
  conformanceModule((w) => `
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("headers", `(call $proxy_get_header_map_size (i32.const 0) (i32.const ${OUT.ptr}))`)}
    (i32.const 1))
  ${withLog ? `(func (export "proxy_on_log") (param $id i32) ${w.say("log")})` : ""}
  (func (export "proxy_on_delete") (param $id i32)
    ${w.log("delete_headers", `(call $proxy_get_header_map_size (i32.const 0) (i32.const ${OUT.ptr}))`)})
`);

test("§4.5: proxy_on_delete sees no header map, whether or not the module has a log phase", () => {
  for (const withLog of [true, false]) {
    const host = createTestHost({ wasm: READ_IN_DELETE(withLog) });
    host.logs.clear();
    const stream = host.http();
    assert.equal(stream.requestHeaders({ ":path": "/" }), "StopAllIterationAndWatermark");
    stream.complete();
    assert.deepEqual(host.logs.messages, ["headers=0", ...(withLog ? ["log"] : []), "delete_headers=2"], `with proxy_on_log: ${withLog}`);
  }
});
