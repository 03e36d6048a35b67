import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { checkModule, inspectModule, loadCheckedModule, ModuleLoadError, type ModuleProblem } from "../../../src/host/module";
import { initWat, wasmFixture, watToWasm } from "../../helpers/wat";

before(initWat);

/** Loads a fixture expecting failure; returns the error. */
function loadError(bytes: Uint8Array): ModuleLoadError {
  try {
    loadCheckedModule(bytes);
  } catch (error) {
    assert.ok(error instanceof ModuleLoadError, `expected ModuleLoadError, got ${String(error)}`);
    return error;
  }
  assert.fail("module loaded but should have been rejected");
}

function messages(problems: readonly ModuleProblem[]): string[] {
  return problems.map((problem) => problem.message);
}

describe("loadCheckedModule accepts valid modules", () => {
  for (const [fixture, version, allocator] of [
    ["abi_0_1_0", "0.1.0", "malloc"],
    ["abi_0_2_0", "0.2.0", "proxy_on_memory_allocate"],
    ["abi_0_2_1", "0.2.1", "malloc"],
  ] as const) {
    it(`${fixture}: ABI ${version}, allocator ${allocator}`, () => {
      const { info, module } = loadCheckedModule(wasmFixture(fixture));
      assert.equal(info.abiVersion, version);
      assert.equal(info.allocator, allocator);
      assert.ok(module);
      assert.deepEqual(checkModule(info), []);
    });
  }
});

describe("loadCheckedModule rejects what Envoy rejects, with cpp-host's message", () => {
  const cases: Array<[fixture: string, code: string, message: string, hint?: string]> = [
    [
      "bad_no_marker",
      "missing-abi-version",
      "Missing or unknown Proxy-Wasm ABI version",
      "export an empty function named proxy_abi_version_0_2_1 (or proxy_abi_version_0_2_0, proxy_abi_version_0_1_0)",
    ],
    [
      "bad_vnext_marker",
      "missing-abi-version",
      "Missing or unknown Proxy-Wasm ABI version",
      "proxy_abi_version_0_x_x (the vNEXT draft) is not accepted by cpp-host/Envoy; export proxy_abi_version_0_2_1 instead",
    ],
    [
      "bad_no_allocator",
      "missing-allocator",
      "Wasm module is missing malloc function.",
      "export malloc or proxy_on_memory_allocate with type (i32) -> i32",
    ],
    [
      "bad_env_abort",
      "missing-import",
      "Failed to load Wasm module due to a missing import: env.abort",
      "AssemblyScript's default abort; build with --use abort=<your abort function> (the SDK's asconfig.json does this)",
    ],
    [
      "bad_log_level_in_0_2_0",
      "missing-import",
      "Failed to load Wasm module due to a missing import: env.proxy_get_log_level",
      "proxy_get_log_level is only provided for ABI 0.2.1, but the module declares ABI 0.2.0",
    ],
    [
      "bad_route_cache_in_0_2_1",
      "missing-import",
      "Failed to load Wasm module due to a missing import: env.proxy_clear_route_cache",
      "proxy_clear_route_cache is only provided for ABI 0.1.0, but the module declares ABI 0.2.1",
    ],
    [
      "bad_proxy_log_i64",
      "import-type-mismatch",
      "Failed to load Wasm module due to an import type mismatch: env.proxy_log, want: i32 i32 i64 -> i32, but host exports: i32 i32 i32 -> i32",
    ],
    [
      "bad_request_headers_arity",
      "bad-export-signature",
      "Bad function signature for: proxy_on_request_headers, want: i32 i32 i32 -> i32, but the module exports: i32 i32 -> i32",
    ],
    [
      "bad_global_import",
      "global-import",
      "Failed to load Wasm module due to a missing import: env.__stack_pointer",
      "global imports are not supported by Proxy-Wasm hosts",
    ],
  ];
  for (const [fixture, code, message, hint] of cases) {
    it(fixture, () => {
      const error = loadError(wasmFixture(fixture));
      assert.equal(error.message, message);
      assert.equal(error.problems.length, 1, error.report);
      assert.equal(error.problems[0]!.code, code);
      assert.equal(error.problems[0]!.hint, hint);
    });
  }

  it("reports every problem, in cpp-host's order, first one in the message", () => {
    const error = loadError(wasmFixture("bad_many_problems"));
    assert.deepEqual(messages(error.problems), [
      "Failed to load Wasm module due to a missing import: env.abort",
      "Failed to load Wasm module due to an import type mismatch: env.proxy_log, want: i32 i32 i32 -> void, but host exports: i32 i32 i32 -> i32",
      "Failed to load Wasm module due to a missing import: env.seed",
      "Wasm module is missing malloc function.",
      "Bad function signature for: proxy_on_tick, want: i32 -> void, but the module exports: i32 -> i32",
    ]);
    assert.equal(error.message, "Failed to load Wasm module due to a missing import: env.abort");
    assert.equal(
      error.report.split("\n").slice(0, 2).join("\n"),
      "Failed to load Wasm module due to a missing import: env.abort\n" +
        "  hint: AssemblyScript's default abort; build with --use abort=<your abort function> (the SDK's asconfig.json does this)",
    );
  });

  it("still checks imports when the marker is missing (against every version)", () => {
    const bytes = watToWasm(`(module
      (import "env" "abort" (func (param i32 i32 i32 i32)))
      (import "env" "proxy_get_log_level" (func (param i32) (result i32)))
      (import "env" "proxy_clear_route_cache" (func (result i32)))
      (memory (export "memory") 1)
      (func (export "malloc") (param i32) (result i32) (i32.const 8)))`);
    assert.deepEqual(messages(loadError(bytes).problems), [
      "Missing or unknown Proxy-Wasm ABI version",
      "Failed to load Wasm module due to a missing import: env.abort",
    ]);
  });

  it("does not reject a module without memory: cpp-host loads it (tests/host/core/no-memory.test.ts)", () => {
    for (const bytes of [
      wasmFixture("bad_no_memory"),
      watToWasm(`(module (memory 1) (func (export "proxy_abi_version_0_2_1"))
        (func (export "malloc") (param i32) (result i32) (i32.const 8)))`),
    ]) {
      const { info } = loadCheckedModule(bytes);
      assert.equal(info.memory, null);
      assert.deepEqual(checkModule(info), []);
    }
  });

  it("explains the WASI preview1 path_link signature that cpp-host declares one parameter short", () => {
    const error = loadError(
      watToWasm(`(module
        (import "wasi_snapshot_preview1" "path_link" (func (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
        (func (export "malloc") (param i32) (result i32) (i32.const 8)))`),
    );
    assert.equal(
      error.message,
      "Failed to load Wasm module due to an import type mismatch: wasi_snapshot_preview1.path_link, want: i32 i32 i32 i32 i32 i32 i32 -> i32, but host exports: i32 i32 i32 i32 i32 i32 -> i32",
    );
    assert.equal(
      error.problems[0]!.hint,
      "this is the standard WASI preview1 signature, but cpp-host (and so Envoy) declares path_link with 6 parameters; avoid calling path_link",
    );
  });

  it("rejects an unknown WASI function and an unknown import module", () => {
    const error = loadError(
      watToWasm(`(module
        (import "wasi_snapshot_preview1" "sock_open" (func (param i32 i32 i32) (result i32)))
        (import "wasi" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
        (func (export "malloc") (param i32) (result i32) (i32.const 8)))`),
    );
    assert.deepEqual(messages(error.problems), [
      "Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.sock_open",
      "Failed to load Wasm module due to a missing import: wasi.fd_write",
    ]);
    assert.equal(error.problems[0]!.hint, "the host does not implement WASI function sock_open");
  });

  it("checks start functions: main only with _initialize, _start only without", () => {
    const withInitialize = loadError(
      watToWasm(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
        (func (export "malloc") (param i32) (result i32) (i32.const 8))
        (func (export "_initialize")) (func (export "main")) (func (export "_start") (param i32)))`),
    );
    assert.deepEqual(messages(withInitialize.problems), [
      "Bad function signature for: main, want: i32 i32 -> i32, but the module exports: void -> void",
    ]);
    const withoutInitialize = loadError(
      watToWasm(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
        (func (export "malloc") (param i32) (result i32) (i32.const 8))
        (func (export "main")) (func (export "_start") (param i32)))`),
    );
    assert.deepEqual(messages(withoutInitialize.problems), [
      "Bad function signature for: _start, want: void -> void, but the module exports: i32 -> void",
    ]);
  });

  it("checks Envoy's extra callbacks and ignores proxy_on_foreign_function in 0.1.0 only", () => {
    const bad = loadError(
      watToWasm(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_0"))
        (func (export "malloc") (param i32) (result i32) (i32.const 8))
        (func (export "proxy_on_foreign_function") (param i32 i32) )
        (func (export "envoy_on_resolve_dns") (param i32 i32 i32) (result i32) (i32.const 0)))`),
    );
    assert.deepEqual(messages(bad.problems), [
      "Bad function signature for: proxy_on_foreign_function, want: i32 i32 i32 -> void, but the module exports: i32 i32 -> void",
      "Bad function signature for: envoy_on_resolve_dns, want: i32 i32 i32 -> void, but the module exports: i32 i32 i32 -> i32",
    ]);
  });

  it("falls back to proxy_on_memory_allocate when malloc has the wrong type, and reports malloc", () => {
    const error = loadError(
      watToWasm(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
        (func (export "malloc") (param i64) (result i32) (i32.const 8))
        (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 8)))`),
    );
    assert.deepEqual(messages(error.problems), [
      "Bad function signature for: malloc, want: i32 -> i32, but the module exports: i64 -> i32",
    ]);
    assert.equal(inspectModule(watToWasm(`(module (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 8))
      (func (export "malloc") (param i64) (result i32) (i32.const 8)))`)).allocator, "proxy_on_memory_allocate");
  });

  it("accepts imports registered by the embedder through extraHostFunctions", () => {
    const bytes = watToWasm(`(module
      (import "env" "my_host_fn" (func (param i32) (result i32)))
      (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 8)))`);
    assert.equal(loadError(bytes).message, "Failed to load Wasm module due to a missing import: env.my_host_fn");
    const extra = [{ module: "env", name: "my_host_fn", signature: { params: ["i32"], results: ["i32"] } }] as const;
    assert.equal(loadCheckedModule(bytes, { extraHostFunctions: extra }).info.abiVersion, "0.2.1");
    const wrongType = [{ module: "env", name: "my_host_fn", signature: { params: ["i64"], results: ["i32"] } }] as const;
    assert.throws(() => loadCheckedModule(bytes, { extraHostFunctions: wrongType }), {
      message:
        "Failed to load Wasm module due to an import type mismatch: env.my_host_fn, want: i32 -> i32, but host exports: i64 -> i32",
    });
  });
});

/** Offsets at which a module's prefix is itself a sequence of whole sections. */
function sectionBoundaries(bytes: Uint8Array): Set<number> {
  const boundaries = new Set<number>([8]);
  let offset = 8;
  while (offset < bytes.length) {
    offset++; // section id
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[offset++]!;
      size |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    offset += size;
    boundaries.add(offset);
  }
  return boundaries;
}

describe("corrupt binaries", () => {
  it("bad magic", () => {
    const bytes = Uint8Array.of(0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0);
    const error = loadError(bytes);
    assert.equal(error.message, "Failed to parse corrupted Wasm module");
    assert.equal(error.problems[0]!.code, "corrupt-module");
    assert.equal(error.problems[0]!.hint, "bad wasm magic number (\\0asm) at offset 0");
  });

  it("empty input and a bad version", () => {
    assert.equal(loadError(new Uint8Array()).problems[0]!.hint, "unexpected end of data reading wasm magic number (\\0asm) at offset 0");
    assert.equal(
      loadError(Uint8Array.of(0, 0x61, 0x73, 0x6d, 2, 0, 0, 0)).problems[0]!.hint,
      "bad wasm binary version 1 at offset 4",
    );
  });

  it("every truncation of a valid module is rejected as corrupt unless it ends on a section boundary", () => {
    const bytes = wasmFixture("abi_0_2_1");
    const boundaries = sectionBoundaries(bytes);
    for (let length = 0; length < bytes.length; length++) {
      const error = loadError(bytes.subarray(0, length));
      if (boundaries.has(length)) continue; // a shorter but well-formed module; other checks reject it
      assert.equal(error.message, "Failed to parse corrupted Wasm module", `length ${length}`);
      assert.match(error.problems[0]!.hint!, / at offset \d+$/, `length ${length}`);
    }
  });

  it("a section running past the end names the section, sizes and offset", () => {
    const bytes = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2, 10, 1, 3, 0x65);
    assert.equal(loadError(bytes).problems[0]!.hint, "import section of 10 bytes runs past the end (3 left) at offset 10");
  });

  it("unknown and duplicate sections, bad type indices and trailing bytes are named", () => {
    const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
    const hint = (body: number[]): string | undefined => loadError(Uint8Array.from([...header, ...body])).problems[0]!.hint;
    assert.equal(hint([14, 0]), "unknown section id 14 at offset 8");
    assert.equal(hint([1, 1, 0, 1, 1, 0]), "duplicate type section at offset 11");
    assert.equal(hint([1, 2, 0, 0]), "1 unexpected trailing bytes in type section at offset 11");
    assert.equal(hint([1, 4, 1, 0x5f, 0, 0]), "unsupported type form 0x5f (only function types) at offset 11");
    assert.equal(hint([3, 2, 1, 0]), "function 0 uses type 0 but only 0 types exist at offset 12");
    assert.equal(hint([1, 1, 0, 7, 5, 1, 1, 0x78, 0, 0]), "export \"x\" refers to function 0 but only 0 exist at offset 18");
    assert.equal(hint([1, 5, 1, 0x60, 0xff, 0xff, 0xff]), "unexpected end of data reading parameter count at offset 15");
  });

  it("bytes V8 rejects after our parser passes them are reported as bytecode failures", () => {
    // A valid header and export section, but a code section that does not match the functions.
    const good = watToWasm(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 8)))`);
    const codeStart = good.findIndex((byte, i) => byte === 10 && i > 8 && good[i + 2] === 2); // code section, 2 bodies
    assert.ok(codeStart > 0);
    const broken = good.slice();
    broken[codeStart + 2] = 3; // claims three function bodies
    const error = loadError(broken);
    assert.equal(error.message, "Failed to load Wasm bytecode");
    assert.equal(error.problems[0]!.code, "bytecode-rejected");
  });
});
