import { test } from "node:test";
import assert from "node:assert/strict";
import { inspectModule, loadCheckedModule, type ModuleInfo } from "../../../src/host/module";
import {
  C_ADD_HEADER,
  RUST_HELLO_WORLD,
  RUST_HTTP_AUTH_RANDOM,
  RUST_HTTP_BODY,
  RUST_HTTP_HEADERS,
  fixtureBytes,
} from "./foreign-fixtures";

function importNames(info: ModuleInfo): string[] {
  return info.imports.map((entry) => `${entry.module}.${entry.name}`).sort();
}

function exportsOfKind(info: ModuleInfo, kind: string): string[] {
  return info.exports.filter((entry) => entry.kind === kind).map((entry) => entry.name).sort();
}

const RUST_WASI_STD_IMPORTS = [
  "wasi_snapshot_preview1.environ_get",
  "wasi_snapshot_preview1.environ_sizes_get",
  "wasi_snapshot_preview1.fd_write",
  "wasi_snapshot_preview1.proc_exit",
];

test("rustc wasm32-unknown-unknown: ABI 0.2.1, proxy_on_memory_allocate, no WASI, exported __data_end/__heap_base", () => {
  const info = loadCheckedModule(fixtureBytes(RUST_HELLO_WORLD)).info;
  assert.equal(info.abiVersion, "0.2.1");
  assert.equal(info.allocator, "proxy_on_memory_allocate");
  assert.deepEqual(importNames(info), [
    "env.proxy_get_current_time_nanoseconds",
    "env.proxy_log",
    "env.proxy_set_tick_period_milliseconds",
  ]);
  assert.deepEqual(exportsOfKind(info, "global"), ["__data_end", "__heap_base"]);
  assert.deepEqual(exportsOfKind(info, "function"), [
    "proxy_abi_version_0_2_1",
    "proxy_on_context_create",
    "proxy_on_delete",
    "proxy_on_done",
    "proxy_on_memory_allocate",
    "proxy_on_tick",
    "proxy_on_vm_start",
  ]);
  // rustc reserves a 1 MiB stack below the heap: 17 pages before any growth.
  assert.deepEqual(info.memory, { source: "exported", name: "memory", limits: { min: 17, max: undefined, shared: false, memory64: false } });
  assert.equal(info.hasStartSection, false);
});

test("rustc wasm32-unknown-unknown http_body: accepted with its name section kept", () => {
  const { info } = loadCheckedModule(fixtureBytes(RUST_HTTP_BODY));
  assert.equal(info.abiVersion, "0.2.1");
  assert.equal(info.allocator, "proxy_on_memory_allocate");
  assert.deepEqual(importNames(info), ["env.proxy_get_buffer_bytes", "env.proxy_remove_header_map_value", "env.proxy_set_buffer_bytes"]);
  assert.deepEqual(info.customSections.map((section) => section.name), ["name", "producers"]);
  assert.ok([...info.functionNames.values()].includes("proxy_on_response_body"));
});

test("rustc wasm32-wasi: std's WASI imports, _initialize, exported table and globals are accepted", () => {
  for (const [url, proxyImports] of [
    [RUST_HTTP_HEADERS, ["env.proxy_get_header_map_pairs", "env.proxy_log", "env.proxy_send_local_response"]],
    [
      RUST_HTTP_AUTH_RANDOM,
      [
        "env.proxy_continue_stream",
        "env.proxy_get_buffer_bytes",
        "env.proxy_http_call",
        "env.proxy_log",
        "env.proxy_replace_header_map_value",
        "env.proxy_send_local_response",
        "env.proxy_set_effective_context",
      ],
    ],
  ] as const) {
    const { info } = loadCheckedModule(fixtureBytes(url));
    assert.equal(info.abiVersion, "0.2.1", url.pathname);
    assert.equal(info.allocator, "proxy_on_memory_allocate", url.pathname);
    const wasi = url === RUST_HTTP_AUTH_RANDOM ? [...RUST_WASI_STD_IMPORTS, "wasi_snapshot_preview1.random_get"].sort() : RUST_WASI_STD_IMPORTS;
    assert.deepEqual(importNames(info), [...proxyImports, ...wasi], url.pathname);
    assert.deepEqual(exportsOfKind(info, "table"), ["__indirect_function_table"]);
    assert.deepEqual(exportsOfKind(info, "global"), ["__data_end", "__heap_base"]);
    assert.ok(exportsOfKind(info, "function").includes("_initialize"));
    assert.ok(info.functionNames.size > 100, "std's functions keep their names");
  }
});

test("clang wasm32-wasi reactor: malloc is the allocator, _initialize exported, wasi-libc's stdio imports", () => {
  const { info } = loadCheckedModule(fixtureBytes(C_ADD_HEADER));
  assert.equal(info.abiVersion, "0.2.1");
  assert.equal(info.allocator, "malloc");
  assert.deepEqual(importNames(info), [
    "env.proxy_add_header_map_value",
    "env.proxy_get_buffer_bytes",
    "env.proxy_log",
    "env.proxy_replace_header_map_value",
    "wasi_snapshot_preview1.environ_get",
    "wasi_snapshot_preview1.environ_sizes_get",
    "wasi_snapshot_preview1.fd_close",
    "wasi_snapshot_preview1.fd_fdstat_get",
    "wasi_snapshot_preview1.fd_seek",
    "wasi_snapshot_preview1.fd_write",
    "wasi_snapshot_preview1.proc_exit",
  ]);
  assert.deepEqual(exportsOfKind(info, "function"), [
    "_initialize",
    "malloc",
    "proxy_abi_version_0_2_1",
    "proxy_on_configure",
    "proxy_on_response_headers",
    "proxy_on_vm_start",
  ]);
  assert.deepEqual(info.memory, { source: "exported", name: "memory", limits: { min: 2, max: undefined, shared: false, memory64: false } });
});

test("inspectModule agrees with loadCheckedModule and every fixture stays small", () => {
  for (const url of [RUST_HELLO_WORLD, RUST_HTTP_HEADERS, RUST_HTTP_AUTH_RANDOM, RUST_HTTP_BODY, C_ADD_HEADER]) {
    const bytes = fixtureBytes(url);
    const info = inspectModule(bytes);
    assert.equal(info.sizeBytes, bytes.length);
    assert.ok(bytes.length < 100_000, `${url.pathname} is ${bytes.length} bytes`);
    assert.deepEqual(info, loadCheckedModule(bytes).info);
  }
});

/** The module with the first occurrence of `from` (the export section comes first) renamed. */
function renameExport(bytes: Uint8Array, from: string, to: string): Uint8Array {
  assert.equal(from.length, to.length, "same length keeps the binary well-formed");
  const text = Buffer.from(bytes).toString("latin1");
  const at = text.indexOf(from);
  assert.ok(at > 0, `${from} not found`);
  const copy = new Uint8Array(bytes);
  copy.set(Buffer.from(to, "latin1"), at);
  return copy;
}

test("a rustc module with its marker renamed to the vNEXT one is refused as cpp-host refuses it", () => {
  const bytes = renameExport(fixtureBytes(RUST_HTTP_BODY), "proxy_abi_version_0_2_1", "proxy_abi_version_0_x_x");
  assert.equal(inspectModule(bytes).abiVersion, null);
  assert.throws(() => loadCheckedModule(bytes), { name: "ModuleLoadError", message: "Missing or unknown Proxy-Wasm ABI version" });
});

test("a rustc module without an allocator export is refused with cpp-host's message", () => {
  const bytes = renameExport(fixtureBytes(RUST_HELLO_WORLD), "proxy_on_memory_allocate", "proxy_on_memory_allocatX");
  assert.equal(inspectModule(bytes).allocator, null);
  assert.throws(() => loadCheckedModule(bytes), { name: "ModuleLoadError", message: "Wasm module is missing malloc function." });
});

test("clang's module without malloc falls back to nothing: wasi-libc exports no proxy_on_memory_allocate", () => {
  const bytes = renameExport(fixtureBytes(C_ADD_HEADER), "malloc", "mallox");
  assert.equal(inspectModule(bytes).allocator, null);
  assert.throws(() => loadCheckedModule(bytes), { name: "ModuleLoadError", message: "Wasm module is missing malloc function." });
});
