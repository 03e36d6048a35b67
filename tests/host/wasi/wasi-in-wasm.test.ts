/** Runs the WASI imports under a real wasm instance: i64 parameters arrive as BigInt, memory grows. */
import assert from "node:assert/strict";
import { before, it } from "node:test";
import { createWasiImports } from "../../../src/host/wasi";
import { initWat, watToWasm } from "../../helpers/wat";

before(initWat);

interface Instance {
  exports: { memory: { buffer: ArrayBuffer; grow(pages: number): number }; [name: string]: unknown };
}
const wasm = (globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: Instance }> };
}).WebAssembly;

it("a module calls fd_write and clock_time_get through both module names", async () => {
  const bytes = watToWasm(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_unstable" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 64) "from wasm\\n")
    (func (export "write") (result i32)
      (i32.store (i32.const 0) (i32.const 64))
      (i32.store (i32.const 4) (i32.const 10))
      (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (func (export "time") (param i32) (result i32)
      (call $time (local.get 0) (i64.const -1) (i32.const 65536)))
    (func (export "grow") (result i32) (memory.grow (i32.const 1)))
    (func (export "read_time") (result i64) (i64.load (i32.const 65536))))`);
  const logs: Array<[number, string]> = [];
  let memory: { buffer: ArrayBuffer } | undefined;
  const wasi = createWasiImports({
    memory: () => memory!,
    log: (level, message) => logs.push([level, message]),
    hostLog: () => assert.fail("no host log expected"),
    environment: [],
    now: () => 2n ** 63n + 5n,
    monotonic: () => 7n,
    randomBytes: (n) => new Uint8Array(n),
  });
  const { instance } = await wasm.instantiate(bytes, { wasi_snapshot_preview1: wasi, wasi_unstable: wasi });
  memory = instance.exports.memory;
  const call = (name: string, ...args: number[]) => (instance.exports[name] as (...a: number[]) => unknown)(...args);

  assert.equal(call("write"), 0);
  assert.deepEqual(logs, [[2, "from wasm"]]);
  assert.equal(new DataView(memory.buffer).getUint32(16, true), 10);

  assert.equal(call("time", 0), 21); // 65536 is past the single page
  assert.equal(call("grow"), 1);
  assert.equal(call("time", 0), 0); // the grown memory is picked up
  assert.equal(call("read_time"), -(2n ** 63n) + 5n); // u64 2^63+5 read back as i64
  assert.equal(call("time", 1), 0);
  assert.equal(call("read_time"), 7n);
  assert.equal(call("time", 9), 58);
});
