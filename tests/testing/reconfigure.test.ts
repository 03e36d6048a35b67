// host.reconfigure() / handle.reconfigure(): proxy_on_configure again on the plugin's existing
// root context with the same configuration (proxy-wasm-cpp-host's WasmBase::configure on the root
// that WasmBase::start found for the same plugin key), nothing else.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createTestHost } from "../../src/testing";
import { PluginStartError } from "../../src/host";
import { initWat, watToWasm } from "../helpers/wat";

let echo: Uint8Array;
let secondRefuses: Uint8Array;

// Accepts its first configure and refuses every later one; logs the root context id each time.
const SECOND_REFUSES = `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $configures (mut i32) (i32.const 0))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param i32) (result i32)
    (i32.store8 (i32.const 16) (i32.add (i32.const 48) (local.get $root)))
    (drop (call $log (i32.const 2) (i32.const 16) (i32.const 1)))
    (global.set $configures (i32.add (global.get $configures) (i32.const 1)))
    (i32.eq (global.get $configures) (i32.const 1))))`;

before(async () => {
  await initWat();
  echo = watToWasm(readFileSync(fileURLToPath(new URL("./fixtures/root_id_echo.wat", import.meta.url)), "utf8"));
  secondRefuses = watToWasm(SECOND_REFUSES);
});

test("reconfigure: proxy_on_configure runs again on the same root context, with the same configuration readable", () => {
  const hostcalls: string[] = [];
  let recording = false;
  const host = createTestHost({ wasm: echo, pluginName: "a", rootId: "alpha", pluginConfig: "config-a", onHostcall: (_module, name) => { if (recording) hostcalls.push(name); } });
  recording = true;
  host.reconfigure();
  host.reconfigure();
  assert.equal(host.rootContextId, 1);
  assert.deepEqual(host.logs.at("info"), ["alpha", "config-a", "alpha", "config-a", "alpha", "config-a"]);
  // Only the configure callback's own hostcalls: no context create, no vm start.
  const oneConfigure = ["proxy_get_property", "proxy_log", "proxy_get_buffer_bytes", "proxy_log"];
  assert.deepEqual(hostcalls, [...oneConfigure, ...oneConfigure]);
  assert.equal(host.vm.contexts.size, 1);
  // Streams still work under the same root.
  const result = host.flow({ request: { headers: { ":method": "GET", ":path": "/", ":authority": "a" } } });
  assert.equal(result.upstream.header("x-parent"), "1");
});

test("reconfigure: a plugin handle reconfigures its own root only", () => {
  const host = createTestHost({ wasm: echo, pluginName: "a", rootId: "alpha", pluginConfig: "config-a" });
  const beta = host.addPlugin({ name: "b", rootId: "beta", pluginConfig: "config-b" });
  beta.reconfigure();
  assert.deepEqual(host.logs.at("info"), ["alpha", "config-a", "beta", "config-b", "beta", "config-b"]);
  beta.shutdown();
  assert.throws(() => beta.reconfigure(), /was shut down: it cannot be configured/);
});

test("reconfigure: a refused configuration throws PluginStartError at the configure stage; a shut-down plugin throws", () => {
  const host = createTestHost({ wasm: secondRefuses });
  assert.throws(() => host.reconfigure(), (error: unknown) => error instanceof PluginStartError && error.stage === "configure" && /Failed to configure Wasm plugin in proxy_on_configure/.test(error.message));
  assert.deepEqual(host.logs.at("info"), ["1", "1"]);
  host.shutdown();
  assert.throws(() => host.reconfigure(), /configure: the plugin has no root context \(not started, or shut down\)/);
});
