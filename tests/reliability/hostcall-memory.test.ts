// Faults of class "module": a filter passes pointers outside its linear memory to hostcalls, or
// its allocator misbehaves. cpp-host checks every range before touching it and answers
// InvalidMemoryAccess (6) without failing the VM (proxy-wasm-cpp-host src/exports.cc, every
// `getMemory`/`setWord`/`setDatatype` check; src/v8/v8.cc `getMemory` refuses a range past the
// memory's end). The allocator (proxy-wasm-cpp-host include/proxy-wasm/wasm.h `allocMemory`,
// test/security_test.cc): a 0 or out-of-range block makes the hostcall return InvalidMemoryAccess;
// a trap or a hostcall outside the allocator's restricted set fails the VM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../src/testing";
import { compileWat } from "../host/core/wat";

const INVALID_MEMORY_ACCESS = 6;
/** A pointer 16 bytes below 4 GiB: far outside a 64 KiB memory. */
const BAD = "(i32.const -16)";
const GET = { ":method": "GET", ":path": "/", ":authority": "h" };

/** Each hostcall with its wasm-level arguments; every pointer argument is BAD. */
const OUT_OF_BOUNDS_CALLS: ReadonlyArray<{ name: string; args: string[] }> = [
  { name: "proxy_log", args: ["(i32.const 2)", BAD, "(i32.const 8)"] },
  { name: "proxy_get_log_level", args: [BAD] },
  { name: "proxy_get_current_time_nanoseconds", args: [BAD] },
  { name: "proxy_get_status", args: [BAD, BAD, BAD] },
  { name: "proxy_get_property", args: [BAD, "(i32.const 8)", BAD, BAD] },
  { name: "proxy_set_property", args: [BAD, "(i32.const 8)", BAD, "(i32.const 8)"] },
  { name: "proxy_send_local_response", args: ["(i32.const 403)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", "(i32.const -1)"] },
  { name: "proxy_get_shared_data", args: [BAD, "(i32.const 8)", BAD, BAD, BAD] },
  { name: "proxy_set_shared_data", args: [BAD, "(i32.const 8)", BAD, "(i32.const 8)", "(i32.const 0)"] },
  { name: "proxy_register_shared_queue", args: [BAD, "(i32.const 8)", BAD] },
  { name: "proxy_resolve_shared_queue", args: [BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD] },
  { name: "proxy_enqueue_shared_queue", args: ["(i32.const 1)", BAD, "(i32.const 8)"] },
  { name: "proxy_get_header_map_value", args: ["(i32.const 0)", BAD, "(i32.const 8)", BAD, BAD] },
  { name: "proxy_add_header_map_value", args: ["(i32.const 0)", BAD, "(i32.const 8)", BAD, "(i32.const 8)"] },
  { name: "proxy_replace_header_map_value", args: ["(i32.const 0)", BAD, "(i32.const 8)", BAD, "(i32.const 8)"] },
  { name: "proxy_remove_header_map_value", args: ["(i32.const 0)", BAD, "(i32.const 8)"] },
  { name: "proxy_get_header_map_pairs", args: ["(i32.const 0)", BAD, BAD] },
  { name: "proxy_set_header_map_pairs", args: ["(i32.const 0)", BAD, "(i32.const 8)"] },
  { name: "proxy_get_header_map_size", args: ["(i32.const 0)", BAD] },
  { name: "proxy_get_buffer_status", args: ["(i32.const 0)", BAD, BAD] },
  { name: "proxy_get_buffer_bytes", args: ["(i32.const 0)", "(i32.const 0)", "(i32.const 8)", BAD, BAD] },
  { name: "proxy_set_buffer_bytes", args: ["(i32.const 0)", "(i32.const 0)", "(i32.const 0)", BAD, "(i32.const 8)"] },
  { name: "proxy_http_call", args: [BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", "(i32.const 1000)", BAD] },
  { name: "proxy_grpc_call", args: [BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", "(i32.const 1000)", BAD] },
  { name: "proxy_grpc_stream", args: [BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD] },
  { name: "proxy_grpc_send", args: ["(i32.const 6)", BAD, "(i32.const 8)", "(i32.const 0)"] },
  { name: "proxy_define_metric", args: ["(i32.const 0)", BAD, "(i32.const 8)", BAD] },
  { name: "proxy_call_foreign_function", args: [BAD, "(i32.const 8)", BAD, "(i32.const 8)", BAD, BAD] },
];

function words(count: number): string {
  return count === 0 ? "" : `(param${" i32".repeat(count)})`;
}

/** A 0.2.1 module whose proxy_on_request_headers makes every call of OUT_OF_BOUNDS_CALLS, then continues. */
function outOfBoundsModule(): Uint8Array {
  const imports = OUT_OF_BOUNDS_CALLS.map(({ name, args }) => `(import "env" "${name}" (func $${name} ${words(args.length)} (result i32)))`);
  const calls = OUT_OF_BOUNDS_CALLS.map(({ name, args }) => `(drop (call $${name} ${args.join(" ")}))`);
  return compileWat(`(module
  ${imports.join("\n  ")}
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    ${calls.join("\n    ")}
    (i32.const 0))
)`, "out-of-bounds.wat");
}

test("out-of-bounds pointers: every hostcall family answers InvalidMemoryAccess (6), the VM stays healthy and the stream continues", () => {
  const results = new Map<string, number | undefined>();
  const host = createTestHost({
    wasm: outOfBoundsModule(),
    clusters: ["c"],
    onHostcall: (_module, name) => (result) => results.set(name, result),
  });
  const stream = host.http();
  assert.equal(stream.requestHeaders(GET, { endOfStream: true }), "Continue");
  assert.deepEqual(
    Object.fromEntries(results),
    Object.fromEntries(OUT_OF_BOUNDS_CALLS.map(({ name }) => [name, INVALID_MEMORY_ACCESS])),
  );
  assert.equal(host.failure, null);
  assert.equal(stream.localResponse, null, "the local response with bad pointers was not sent");
  assert.deepEqual(stream.upstream.headers, Object.entries(GET));
  assert.equal(host.callouts.all.length, 0);
});

/**
 * A module whose allocator does what `malloc` says (a WAT body returning i32, param $size), and
 * whose proxy_on_request_headers reads header `a` (so the host must allocate) and logs the result.
 */
function allocatorModule(malloc: string): Uint8Array {
  return compileWat(`(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_done" (func $done (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "a")
  (func (export "proxy_abi_version_0_2_1"))
  (func $spin (loop $forever (br $forever)))
  (func (export "malloc") (param $size i32) (result i32)
    ${malloc})
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $get (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200) (i32.const 204)))
    (i32.const 0))
)`, "allocator.wat");
}

/** Records the result of every proxy_get_header_map_value call, in order. */
function headerReads(): { results: (number | undefined)[]; onHostcall: (module: string, name: string) => ((result: number | undefined) => void) | undefined } {
  const results: (number | undefined)[] = [];
  return {
    results,
    onHostcall: (_module, name) => (name === "proxy_get_header_map_value" ? (result) => void results.push(result) : undefined),
  };
}

test("allocator returning 0: the hostcall that needed memory returns InvalidMemoryAccess and the VM stays healthy", () => {
  const reads = headerReads();
  const host = createTestHost({ onHostcall: reads.onHostcall, wasm: allocatorModule("(i32.const 0)") });
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ...GET, a: "value" }, { endOfStream: true }), "Continue");
  assert.deepEqual(reads.results, [INVALID_MEMORY_ACCESS]);
  assert.equal(host.failure, null);
  assert.equal(host.flow({ request: { headers: { ...GET, a: "again" } } }).downstream.status, 200);
});

test("allocator returning a block past the end of memory: InvalidMemoryAccess, nothing written, the VM stays healthy", () => {
  const reads = headerReads();
  const host = createTestHost({ onHostcall: reads.onHostcall, wasm: allocatorModule("(i32.const 65530)") });
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ...GET, a: "more than six bytes" }, { endOfStream: true }), "Continue");
  assert.deepEqual(reads.results, [INVALID_MEMORY_ACCESS]);
  assert.equal(host.failure, null);
});

test("allocator that traps: the VM fails with the allocator named, the stream is failed closed with 503", () => {
  const reads = headerReads();
  const host = createTestHost({ onHostcall: reads.onHostcall, wasm: allocatorModule("(unreachable)") });
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ...GET, a: "value" }, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.deepEqual(reads.results, [INVALID_MEMORY_ACCESS]);
  assert.match(host.failure ?? "", /^Function: malloc failed: Uncaught RuntimeError: unreachable\n/);
  assert.equal(stream.localResponse?.status, 503);
  assert.equal(stream.localResponse?.details, "wasm_fail_stream");
});

test("allocator making a hostcall outside its restricted set: restricted_callback fails the VM, the hostcall returns InvalidMemoryAccess", () => {
  const reads = headerReads();
  const host = createTestHost({ onHostcall: reads.onHostcall, wasm: allocatorModule("(drop (call $done)) (i32.const 4096)") });
  const stream = host.http();
  stream.requestHeaders({ ...GET, a: "value" }, { endOfStream: true });
  assert.deepEqual(reads.results, [INVALID_MEMORY_ACCESS]);
  assert.match(host.failure ?? "", /^Function: malloc failed: Uncaught RestrictedCallError: restricted_callback: proxy_done/);
  assert.equal(stream.localResponse?.status, 503);
});

test("allocator that may log (its restricted set allows proxy_log): the block is used and the VM stays healthy", () => {
  const reads = headerReads();
  const host = createTestHost({
    onHostcall: reads.onHostcall,
    wasm: compileWat(`(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "a")
  (data (i32.const 120) "this is fine")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $size i32) (result i32)
    (drop (call $log (i32.const 2) (i32.const 120) (i32.const 12)))
    (i32.const 4096))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $get (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200) (i32.const 204)))
    (i32.const 0))
)`, "logging-allocator.wat"),
  });
  host.http().requestHeaders({ ...GET, a: "value" }, { endOfStream: true });
  assert.deepEqual(reads.results, [0]);
  assert.equal(host.failure, null);
  assert.deepEqual(host.logs.at("info"), ["this is fine"]);
});

test("allocator that never returns: the callback time limit stops it, the VM fails and the stream gets 503", () => {
  const reads = headerReads();
  const host = createTestHost({ onHostcall: reads.onHostcall, wasm: allocatorModule("(call $spin) (i32.const 4096)"), callbackTimeLimitMs: 250 });
  const stream = host.http();
  stream.requestHeaders({ ...GET, a: "value" }, { endOfStream: true });
  assert.equal(host.vm.failure?.timedOut, true);
  assert.match(host.failure ?? "", /^Function: malloc failed: callback time limit \(250 ms\) exceeded\n/);
  assert.equal(stream.localResponse?.status, 503);
  assert.equal(stream.localResponse?.details, "wasm_fail_stream");
});
