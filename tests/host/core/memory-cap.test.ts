/**
 * Linear memory is capped at 1 GiB as under cpp-host (issue #12, fault 7):
 * `PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES` (include/proxy-wasm/limits.h) is passed to V8 as
 * `--wasm_max_mem_pages=16384` (src/v8/v8.cc `engine()`). Under that flag (checked with
 * `node --wasm-max-mem-pages=16384`): `memory.grow` past 16384 pages returns -1 whatever maximum
 * the module declares, and a memory whose minimum is above it cannot be instantiated, which
 * cpp-host reports as "Failed to create new Wasm instance" (src/v8/v8.cc `V8::link`). In V8's
 * source: src/wasm/wasm-objects.cc `WasmMemoryObject::New` returns nothing when the initial size
 * is above `max_mem32_pages()` (the flag), and `WasmMemoryObject::Grow` returns -1 past it.
 * Growing reserves address space only; the pages stay untouched.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { PluginStartError } from "../../../src/host/plugin";
import { createTestHost } from "../../../src/testing";
import { initWat, watToWasm } from "../../helpers/wat";

before(initWat);

const GiB = 1024 * 1024 * 1024;

const module = (memory: string) =>
  watToWasm(`(module
    ${memory}
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`);

for (const [label, memory] of [
  ["a memory with no maximum", `(memory (export "memory") 1)`],
  ["a memory with a maximum of 4 GiB", `(memory (export "memory") 1 65536)`],
  ["an imported memory (env.memory) without maximum", `(import "env" "memory" (memory 1))`],
] as const) {
  test(`memory.grow past 1 GiB returns -1 for ${label}; the VM stays healthy`, () => {
    const host = createTestHost({ wasm: module(memory) });
    const vm = host.vm;
    const grow = (pages: number) => vm.invoke("grow", vm.callback("grow"), vm.vmContext, pages);
    assert.equal(grow(16383), 1);
    assert.equal(vm.memoryBytes, GiB);
    assert.equal(grow(1), -1);
    assert.equal(grow(65535 - 16384), -1);
    assert.equal(vm.memoryBytes, GiB);
    assert.equal(host.failure, null);
    // The host still reads and writes the whole memory.
    vm.writeU32(GiB - 4, 0xfeedface);
    assert.deepEqual([...vm.readBytes(GiB - 4, 4)], [0xce, 0xfa, 0xed, 0xfe]);
  });
}

test("a maximum below the cap is kept", () => {
  const host = createTestHost({ wasm: module(`(memory (export "memory") 1 2)`) });
  const vm = host.vm;
  assert.equal(vm.invoke("grow", vm.callback("grow"), vm.vmContext, 1), 1);
  assert.equal(vm.invoke("grow", vm.callback("grow"), vm.vmContext, 1), -1);
});

test("a memory whose minimum is above 1 GiB fails instantiation with cpp-host's message and the reason", () => {
  const wasm = module(`(memory (export "memory") 16385)`);
  assert.throws(
    () => createTestHost({ wasm }),
    (error: unknown) => {
      assert.ok(error instanceof PluginStartError);
      assert.equal(error.stage, "module_start");
      assert.equal(
        error.message,
        "Failed to initialize Wasm code\nFailed to create new Wasm instance\n" +
          "the module's memory starts at 16385 pages (1073807360 bytes), above the 16384 pages (1073741824 bytes) a Proxy-Wasm VM may have",
      );
      return true;
    },
  );
});
