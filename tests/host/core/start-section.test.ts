/**
 * A module with a wasm `start` section (issue #12, fault 5).
 *
 * cpp-host runs the start function inside `wasm::Instance::make` (proxy-wasm-cpp-host
 * src/v8/v8.cc `V8::link`): a trap there makes `Instance::make` return null and cpp-host fails the
 * VM with "Failed to create new Wasm instance" (FailState::UnableToInitializeCode), which Envoy
 * logs at error level (envoy source/extensions/common/wasm/wasm_vm.cc
 * `EnvoyWasmVmIntegration::error`) before "Failed to initialize Wasm code". No context is current
 * during `link` (src/exports.cc `contextOrEffectiveContext` returns the null `current_context_`),
 * so a hostcall made there dereferences null and Envoy crashes; and nothing bounds a start
 * function's run time. The host fails such a module the same way instead: the start function runs
 * under the callback time limit, a hostcall from it is a trap, and the report says why.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginStartError } from "../../../src/host/plugin";
import { createTestHost } from "../../../src/testing";
import { compileWat } from "./wat";

const BODY = `
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))`;

function startFailure(wasm: Uint8Array, callbackTimeLimitMs?: number): PluginStartError {
  try {
    createTestHost({ wasm, callbackTimeLimitMs });
  } catch (error) {
    assert.ok(error instanceof PluginStartError, `expected PluginStartError, got ${String(error)}`);
    return error;
  }
  assert.fail("the module started but should have failed");
}

test("a start section that traps fails instantiation as in cpp-host, with the trap and backtrace as the reason", () => {
  const wasm = compileWat(`(module ${BODY}
    (func $boom unreachable)
    (func $init (call $boom))
    (start $init))`);
  const error = startFailure(wasm);
  assert.equal(error.stage, "module_start");
  const lines = error.message.split("\n");
  assert.equal(lines[0], "Failed to initialize Wasm code");
  assert.equal(lines[1], "Failed to create new Wasm instance");
  assert.equal(lines[2], "Function: wasm start section failed: Uncaught RuntimeError: unreachable");
  assert.equal(lines[3], "Proxy-Wasm plugin in-VM backtrace:");
  assert.match(lines[4]!, /^  0:  0x[0-9a-f]+ - boom$/);
  assert.match(lines[5]!, /^  1:  0x[0-9a-f]+ - init$/);
  assert.equal(lines.length, 6, error.message);
});

test("a start section that loops is stopped by the callback time limit and the load fails; the host stays usable", () => {
  const wasm = compileWat(`(module ${BODY}
    (func $spin (loop $forever (br $forever)))
    (start $spin))`);
  const error = startFailure(wasm, 100);
  const lines = error.message.split("\n");
  assert.equal(lines[0], "Failed to initialize Wasm code");
  assert.equal(lines[1], "Failed to create new Wasm instance");
  assert.equal(lines[2], "Function: wasm start section failed: callback time limit (100 ms) exceeded");
  assert.ok(lines.some((line) => / - spin$/.test(line)), error.message);
  // The same process loads and runs a healthy module right after.
  const healthy = createTestHost({ wasm: compileWat(`(module ${BODY})`), callbackTimeLimitMs: 100 });
  assert.equal(healthy.failure, null);
});

test("a start section that makes a hostcall fails the load with a report naming the hostcall (Envoy would crash)", () => {
  const wasm = compileWat(`(module
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    ${BODY}
    (data (i32.const 64) "hello")
    (func $init (drop (call $log (i32.const 2) (i32.const 64) (i32.const 5))))
    (start $init))`);
  const error = startFailure(wasm);
  const lines = error.message.split("\n");
  assert.equal(lines[1], "Failed to create new Wasm instance");
  assert.equal(
    lines[2],
    "Function: wasm start section failed: Uncaught StartSectionHostcallError: env.proxy_log called from the wasm start section, " +
      "where no context is current (Envoy dereferences a null context here and crashes); do this work in _initialize or proxy_on_vm_start",
  );
  assert.match(lines[4]!, /^  0:  0x[0-9a-f]+ - init$/);
});

test("the failure is logged at error level, once, as Envoy's wasm logger writes it", () => {
  const healthy = createTestHost({ wasm: compileWat(`(module ${BODY})`) });
  const wasm = compileWat(`(module ${BODY} (func $init unreachable) (start $init))`);
  assert.throws(() => createTestHost({ wasm, shareProcessWith: healthy }), PluginStartError);
  const errors = healthy.logs.at("error");
  assert.equal(errors.length, 1, errors.join("\n---\n"));
  assert.match(errors[0]!, /^Failed to create new Wasm instance\nFunction: wasm start section failed: Uncaught RuntimeError: unreachable\n/);
});

test("a start section that completes leaves its effects for the start functions and callbacks", () => {
  const wasm = compileWat(`(module ${BODY}
    (global $ready (mut i32) (i32.const 0))
    (func $init (global.set $ready (i32.const 7)) (i32.store (i32.const 0) (i32.const 42)))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (if (i32.ne (global.get $ready) (i32.const 7)) (then unreachable))
      (if (i32.ne (i32.load (i32.const 0)) (i32.const 42)) (then unreachable))
      (i32.const 0))
    (start $init))`);
  const host = createTestHost({ wasm, callbackTimeLimitMs: 100 });
  assert.equal(host.http().requestHeaders({ ":path": "/" }, { endOfStream: true }), "Continue");
  assert.equal(host.failure, null);
});

test("an instance V8 refuses (a data segment past the memory) fails with cpp-host's message and V8's reason", () => {
  const wasm = compileWat(`(module ${BODY} (data (i32.const 65535) "xy"))`);
  const error = startFailure(wasm);
  const lines = error.message.split("\n");
  assert.deepEqual(lines.slice(0, 2), ["Failed to initialize Wasm code", "Failed to create new Wasm instance"]);
  assert.match(lines[2]!, /^V8 refused the instance: WebAssembly\.Instance\(\): data segment (\d+ )?is out of bounds$/);
  assert.equal(lines.length, 3);
});
