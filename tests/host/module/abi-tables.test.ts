import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ABI_MARKERS,
  abiVersionOfMarker,
  ALLOCATOR_ALLOWED_HOSTCALLS,
  callbacksFor,
  findCallback,
  findHostImport,
  formatSignature,
  HOST_IMPORTS,
  hostImportsFor,
  LogLevel,
  START_ALLOWED_HOSTCALLS,
  WASI_FUNCTIONS,
  WasiErrno,
  WasmResult,
  GrpcStatus,
  BufferType,
  MapType,
} from "../../../src/host/abi";

const sigOf = (version: "0.1.0" | "0.2.0" | "0.2.1", module: string, name: string): string | undefined => {
  const spec = findHostImport(version, module, name);
  return spec && formatSignature(spec.signature);
};

describe("enums", () => {
  it("carry the ABI numbers", () => {
    assert.equal(WasmResult.Unimplemented, 12);
    assert.equal(WasmResult[10], "InternalFailure");
    assert.equal(LogLevel.Off, 6);
    assert.equal(BufferType.CallData, 8);
    assert.equal(MapType.HttpCallResponseTrailers, 7);
    assert.equal(GrpcStatus.Unauthenticated, 16);
    assert.equal(GrpcStatus.InvalidCode, -1);
    assert.equal(WasiErrno.Notcapable, 76);
  });
});

describe("host imports per version", () => {
  it("version-specific hostcalls are registered only for their versions", () => {
    assert.equal(sigOf("0.1.0", "env", "proxy_continue_request"), "void -> i32");
    assert.equal(sigOf("0.2.0", "env", "proxy_continue_request"), undefined);
    assert.equal(sigOf("0.1.0", "env", "proxy_continue_stream"), undefined);
    assert.equal(sigOf("0.2.0", "env", "proxy_continue_stream"), "i32 -> i32");
    assert.equal(sigOf("0.2.0", "env", "proxy_get_log_level"), undefined);
    assert.equal(sigOf("0.2.1", "env", "proxy_get_log_level"), "i32 -> i32");
    assert.equal(sigOf("0.2.1", "env", "proxy_clear_route_cache"), undefined);
  });

  it("signatures of a few representative hostcalls", () => {
    assert.equal(sigOf("0.2.1", "env", "proxy_increment_metric"), "i32 i64 -> i32");
    assert.equal(sigOf("0.2.1", "env", "proxy_record_metric"), "i32 i64 -> i32");
    assert.equal(sigOf("0.2.1", "env", "proxy_grpc_call"), "i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 -> i32");
    assert.equal(sigOf("0.2.1", "env", "proxy_done"), "void -> i32");
    assert.equal(sigOf("0.2.1", "env", "emscripten_notify_memory_growth"), "i32 -> void");
    assert.equal(sigOf("0.1.0", "env", "envoy_resolve_dns"), "i32 i32 i32 -> i32");
    assert.equal(sigOf("0.2.1", "wasi_unstable", "fd_seek"), "i32 i64 i32 i32 -> i32");
    assert.equal(sigOf("0.2.1", "wasi_snapshot_preview1", "proc_exit"), "i32 -> void");
    assert.equal(sigOf("0.2.1", "wasi_snapshot_preview1", "path_link"), "i32 i32 i32 i32 i32 i32 -> i32");
    assert.equal(sigOf("0.2.1", "wasi_snapshot_preview1", "path_symlink"), "i32 i32 i32 i32 -> i32");
    assert.equal(sigOf("0.2.1", "env", "abort"), undefined);
  });

  it("counts: 36 common proxy hostcalls, 3 extras, 45 WASI functions under two names", () => {
    assert.equal(Object.keys(WASI_FUNCTIONS).length, 45);
    assert.equal(HOST_IMPORTS.length, 43 + 3 + 90);
    assert.equal(hostImportsFor("0.1.0").size, 36 + 4 + 3 + 90);
    assert.equal(hostImportsFor("0.2.0").size, 36 + 2 + 3 + 90);
    assert.equal(hostImportsFor("0.2.1").size, 36 + 3 + 3 + 90);
  });
});

describe("callbacks per version", () => {
  it("headers callbacks change arity after 0.1.0; on_foreign_function is 0.2.x only", () => {
    assert.equal(formatSignature(findCallback("0.1.0", "proxy_on_request_headers")!.signature), "i32 i32 -> i32");
    assert.equal(formatSignature(findCallback("0.2.0", "proxy_on_response_headers")!.signature), "i32 i32 i32 -> i32");
    assert.equal(findCallback("0.1.0", "proxy_on_foreign_function"), undefined);
    assert.equal(formatSignature(findCallback("0.2.1", "proxy_on_foreign_function")!.signature), "i32 i32 i32 -> void");
    assert.equal(formatSignature(findCallback("0.2.1", "main")!.signature), "i32 i32 -> i32");
    assert.equal(callbacksFor("0.1.0").size, callbacksFor("0.2.1").size - 1);
  });
});

describe("markers and restricted sets", () => {
  it("marker names map to versions", () => {
    assert.equal(abiVersionOfMarker(ABI_MARKERS["0.2.0"]), "0.2.0");
    assert.equal(abiVersionOfMarker("proxy_abi_version_0_x_x"), undefined);
  });

  it("start allows logging and WASI basics but not other hostcalls", () => {
    for (const allowed of ["env.proxy_log", "env.emscripten_notify_memory_growth", "wasi_unstable.fd_write", "wasi_snapshot_preview1.random_get", "wasi_snapshot_preview1.sock_recv"]) {
      assert.ok(START_ALLOWED_HOSTCALLS.has(allowed), allowed);
    }
    for (const denied of ["env.proxy_done", "env.proxy_get_property", "wasi_snapshot_preview1.fd_read", "wasi_unstable.proc_exit", "wasi_unstable.sched_yield", "wasi_unstable.fd_seek", "wasi_unstable.fd_close", "wasi_unstable.path_open"]) {
      assert.ok(!START_ALLOWED_HOSTCALLS.has(denied), denied);
    }
  });

  it("the allocator may only log, write to stdio, read clocks and poll", () => {
    assert.deepEqual([...ALLOCATOR_ALLOWED_HOSTCALLS].sort(), [
      "env.proxy_log",
      "wasi_snapshot_preview1.clock_time_get",
      "wasi_snapshot_preview1.fd_write",
      "wasi_snapshot_preview1.poll_oneoff",
      "wasi_unstable.clock_time_get",
      "wasi_unstable.fd_write",
      "wasi_unstable.poll_oneoff",
    ]);
  });
});
