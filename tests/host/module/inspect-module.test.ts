import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { describeModule, formatModuleSummary, inspectModule, WasmParseError } from "../../../src/host/module";
import { initWat, wasmFixture, watToWasm } from "../../helpers/wat";

before(initWat);

const ALLOC = `(func (export "malloc") (param i32) (result i32) (i32.const 8))`;

describe("ABI version detection (cpp-host getAbiVersion)", () => {
  it("the first marker in export order wins, not the newest", () => {
    const info = inspectModule(
      watToWasm(`(module (memory (export "memory") 1) ${ALLOC}
        (func (export "proxy_abi_version_0_2_0")) (func (export "proxy_abi_version_0_2_1")))`),
    );
    assert.equal(info.abiVersion, "0.2.0");
    assert.deepEqual(info.abiMarkerExports, ["proxy_abi_version_0_2_0", "proxy_abi_version_0_2_1"]);
  });

  it("only function exports count, and the marker's signature is not checked", () => {
    const info = inspectModule(
      watToWasm(`(module (memory (export "memory") 1) ${ALLOC}
        (global (export "proxy_abi_version_0_2_1") i32 (i32.const 0))
        (func (export "proxy_abi_version_0_1_0") (param i64) (result f32) (f32.const 0)))`),
    );
    assert.equal(info.abiVersion, "0.1.0");
  });

  it("unknown markers are skipped", () => {
    const info = inspectModule(
      watToWasm(`(module (func (export "proxy_abi_version_0_x_x")) (func (export "proxy_abi_version_0_2_1")))`),
    );
    assert.equal(info.abiVersion, "0.2.1");
    assert.equal(inspectModule(watToWasm(`(module (func (export "proxy_abi_version_0_x_x")))`)).abiVersion, null);
  });
});

describe("inspectModule", () => {
  it("lists imports and exports with signatures, memory, allocator and start section", () => {
    const info = inspectModule(wasmFixture("abi_0_2_1"));
    assert.equal(info.imports.length, 12);
    assert.deepEqual(info.imports[2], {
      module: "env",
      name: "proxy_increment_metric",
      kind: "function",
      signature: { params: ["i32", "i64"], results: ["i32"] },
    });
    assert.deepEqual(info.imports[5], {
      module: "env",
      name: "emscripten_notify_memory_growth",
      kind: "function",
      signature: { params: ["i32"], results: [] },
    });
    assert.deepEqual(info.imports[11], {
      module: "env",
      name: "table",
      kind: "table",
      limits: { min: 1, max: undefined, shared: false, memory64: false },
      element: "funcref",
    });
    const malloc = info.exports.find((entry) => entry.name === "malloc");
    // 11 imported functions come first in the function index space.
    assert.deepEqual(malloc, { name: "malloc", kind: "function", index: 12, signature: { params: ["i32"], results: ["i32"] } });
    assert.deepEqual(info.exports[0], { name: "memory", kind: "memory", index: 0 });
    assert.deepEqual(info.memory, {
      source: "exported",
      name: "memory",
      limits: { min: 2, max: 16, shared: false, memory64: false },
    });
    assert.equal(info.allocator, "malloc");
    assert.equal(info.hasStartSection, false);
    assert.equal(info.sizeBytes, wasmFixture("abi_0_2_1").length);
  });

  it("reads function names from the name section (imports first), and survives without one", () => {
    const text = `(module (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
      (func $first) (func $second (export "x")) (start $first))`;
    const named = inspectModule(watToWasm(text, { debugNames: true }));
    assert.deepEqual([...named.functionNames], [
      [0, "log"],
      [1, "first"],
      [2, "second"],
    ]);
    assert.equal(named.hasStartSection, true);
    assert.ok(named.customSections.some((section) => section.name === "name"));
    assert.equal(inspectModule(watToWasm(text)).functionNames.size, 0);
  });

  it("ignores a malformed name section, as V8 does", () => {
    const bytes = watToWasm(`(module (func $f))`, { debugNames: true });
    // Function 0's name is encoded as length 1 then "f"; make the length run past the section.
    const broken = bytes.slice();
    const nameAt = broken.findIndex((byte, i) => byte === 1 && broken[i + 1] === 0x66);
    assert.ok(nameAt > 0);
    broken[nameAt] = 0x7f;
    assert.equal(inspectModule(bytes).functionNames.get(0), "f");
    const info = inspectModule(broken);
    assert.equal(info.functionNames.size, 0);
  });

  it("prefers an imported memory and reports it as module.name", () => {
    const info = inspectModule(watToWasm(`(module (import "env" "memory" (memory 1 2)))`));
    assert.deepEqual(info.memory, {
      source: "imported",
      name: "env.memory",
      limits: { min: 1, max: 2, shared: false, memory64: false },
    });
  });

  it("throws WasmParseError with the offset for corrupt input", () => {
    assert.throws(() => inspectModule(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 7, 2, 1, 5)), (error: unknown) => {
      assert.ok(error instanceof WasmParseError);
      assert.equal(error.offset, 12);
      assert.equal(error.detail, "export name of 5 bytes runs past the end (0 left)");
      assert.equal(error.message, "export name of 5 bytes runs past the end (0 left) at offset 12");
      return true;
    });
  });
});

describe("describeModule", () => {
  it("summarises a module as plain data and text", () => {
    const summary = describeModule(inspectModule(wasmFixture("abi_0_2_0")));
    assert.deepEqual(summary, {
      abiVersion: "0.2.0",
      sizeBytes: wasmFixture("abi_0_2_0").length,
      imports: [
        "env.proxy_log: i32 i32 i32 -> i32",
        "env.proxy_continue_stream: i32 -> i32",
        "env.proxy_close_stream: i32 -> i32",
      ],
      exports: [
        "memory: memory",
        "proxy_abi_version_0_2_0: void -> void",
        "proxy_on_memory_allocate: i32 -> i32",
        "proxy_on_request_headers: i32 i32 i32 -> i32",
      ],
      allocator: "proxy_on_memory_allocate",
      memory: "exported memory (1 pages min)",
      hasStartSection: false,
    });
    assert.equal(
      formatModuleSummary(summary),
      [
        "ABI version: 0.2.0",
        `size: ${summary.sizeBytes} bytes`,
        "memory: exported memory (1 pages min)",
        "allocator: proxy_on_memory_allocate",
        "start section: no",
        "imports (3):",
        "  env.proxy_log: i32 i32 i32 -> i32",
        "  env.proxy_continue_stream: i32 -> i32",
        "  env.proxy_close_stream: i32 -> i32",
        "exports (4):",
        "  memory: memory",
        "  proxy_abi_version_0_2_0: void -> void",
        "  proxy_on_memory_allocate: i32 -> i32",
        "  proxy_on_request_headers: i32 i32 i32 -> i32",
      ].join("\n"),
    );
  });
});
