/**
 * A module that exports (or imports) no linear memory (issue #12, fault 8). cpp-host does not
 * check for one: `V8::link` (proxy-wasm-cpp-host src/v8/v8.cc) just leaves `memory_` null and the
 * module loads and starts. The first time the host reads or writes the module's memory
 * (`getMemory`, `setMemory`, `getWord`, `setWord` only `assert` it, which release builds compile
 * out) it dereferences null and Envoy crashes. The host loads such a module the same way, and
 * makes that first access a trap that fails the VM, so the failure policy applies instead.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { loadCheckedModule } from "../../../src/host/module";
import { createTestHost } from "../../../src/testing";
import { initWat, wasmFixture, watToWasm } from "../../helpers/wat";

before(initWat);

const NO_MEMORY = `
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func $log_hello (drop (call $log (i32.const 2) (i32.const 0) (i32.const 5))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eq (local.get 1) (i32.const 2)) (then (call $log_hello)))
    (i32.const 0))`;

test("a module without memory loads, as in cpp-host", () => {
  assert.equal(loadCheckedModule(wasmFixture("bad_no_memory")).info.memory, null);
  assert.equal(loadCheckedModule(watToWasm(`(module ${NO_MEMORY} (memory 1))`)).info.memory, null);
});

test("a module without memory runs callbacks that leave memory alone", () => {
  const host = createTestHost({ wasm: watToWasm(`(module ${NO_MEMORY})`) });
  assert.equal(host.vm.memoryBytes, 0);
  assert.equal(host.http().requestHeaders({ ":path": "/" }, { endOfStream: true }), "Continue");
  assert.equal(host.failure, null);
});

test("the host's first access to the memory it does not have fails the VM (Envoy crashes there), and the stream gets the failure policy", () => {
  const host = createTestHost({ wasm: watToWasm(`(module ${NO_MEMORY})`, { debugNames: true }) });
  const stream = host.http();
  // Two headers: the callback logs, so the host must read the message from linear memory.
  stream.requestHeaders({ ":path": "/", "x-a": "1" }, { endOfStream: true });
  const lines = (host.failure ?? "").split("\n");
  assert.equal(
    lines[0],
    "Function: proxy_on_request_headers failed: Uncaught MissingMemoryError: env.proxy_log needs the module's linear memory, " +
      "but the module exports none (Envoy dereferences a null memory here and crashes); export the memory as \"memory\"",
  );
  assert.equal(lines[1], "Proxy-Wasm plugin in-VM backtrace:");
  assert.match(lines[2]!, /^  0:  0x[0-9a-f]+ - log_hello$/);
  assert.equal(stream.localResponse?.status, 503);
  assert.equal(stream.localResponse?.details, "wasm_fail_stream");
});

test("a WASI call that needs the memory fails the VM the same way", () => {
  const host = createTestHost({
    wasm: watToWasm(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 1024))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (i32.const 0)))`),
  });
  host.http().requestHeaders({ ":path": "/" }, { endOfStream: true });
  assert.equal(
    host.failure,
    "Function: proxy_on_request_headers failed: Uncaught MissingMemoryError: wasi_snapshot_preview1.fd_write needs the module's linear memory, " +
      "but the module exports none (Envoy dereferences a null memory here and crashes); export the memory as \"memory\"",
  );
});
