import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parseWasmBinary } from "../../../src/host/module";
import { MAX_WASM_MEMORY_PAGES, START_FUNCTION_EXPORT, takeHostControl } from "../../../src/host/module/host-controlled-module";
import { initWat, watToWasm } from "../../helpers/wat";

before(initWat);

interface WasmSlice {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmSlice }).WebAssembly;

describe("takeHostControl", () => {
  it("returns the very bytes when nothing needs changing", () => {
    const bytes = watToWasm(`(module (memory (export "memory") 1 2) (func (export "f")))`);
    const result = takeHostControl(bytes);
    assert.equal(result.bytes, bytes);
    assert.equal(result.startExported, false);
    assert.equal(result.codeOffsetShift, 0);
  });

  it("turns the start section into an export, so instantiating runs nothing", () => {
    const bytes = watToWasm(`(module
      (global $ran (export "ran") (mut i32) (i32.const 0))
      (func $init (global.set $ran (i32.const 1)))
      (start $init))`);
    const result = takeHostControl(bytes);
    assert.equal(result.startExported, true);
    const binary = parseWasmBinary(result.bytes);
    assert.equal(binary.hasStartSection, false);
    // No export section in the input: one is created in its place.
    assert.deepEqual(binary.exports.map((entry) => [entry.name, entry.kind, entry.index]), [
      ["ran", "global", 0],
      [START_FUNCTION_EXPORT, "function", 0],
    ]);
    const instance = new wasm.Instance(new wasm.Module(result.bytes), {});
    const ran = instance.exports.ran as { value: number };
    assert.equal(ran.value, 0);
    (instance.exports[START_FUNCTION_EXPORT] as () => void)();
    assert.equal(ran.value, 1);
  });

  it("creates the export section when the module has none", () => {
    const bytes = watToWasm(`(module (func $init) (start $init))`);
    const binary = parseWasmBinary(takeHostControl(bytes).bytes);
    assert.deepEqual(binary.exports.map((entry) => entry.name), [START_FUNCTION_EXPORT]);
  });

  it("caps a missing or larger memory maximum at 1 GiB and keeps smaller ones", () => {
    const limits = (memory: string) => parseWasmBinary(takeHostControl(watToWasm(`(module ${memory})`)).bytes).definedMemories[0];
    assert.deepEqual(limits("(memory 3)"), { min: 3, max: MAX_WASM_MEMORY_PAGES, shared: false, memory64: false });
    assert.deepEqual(limits("(memory 3 65536)"), { min: 3, max: MAX_WASM_MEMORY_PAGES, shared: false, memory64: false });
    assert.deepEqual(limits("(memory 3 9)"), { min: 3, max: 9, shared: false, memory64: false });
    // A minimum over the cap is left for the VM to refuse (a maximum below the minimum is invalid).
    assert.deepEqual(limits("(memory 16385)"), { min: 16385, max: undefined, shared: false, memory64: false });
  });
});
