/**
 * Failure reports as cpp-host writes them (issue #12, fault 8): proxy-wasm-cpp-host src/v8/v8.cc
 * `V8::getFailMessage` writes "Function: <name> failed: <trap>", then, only when the module has
 * function names, "Proxy-Wasm plugin in-VM backtrace:" and one line per frame: the frame number
 * `std::setw(3)`, ": ", " 0x<module offset in hex> - ", the name or "unknown(function index:N)".
 * V8 runs with `--stack-trace-limit=20` (PROXY_WASM_HOST_MAX_BACKTRACE_FRAMES_COUNT,
 * include/proxy-wasm/limits.h), so at most 20 frames.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { createTestHost } from "../../../src/testing";
import { initWat, watToWasm } from "../../helpers/wat";

before(initWat);

const COMMON = `
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))`;

function trapReport(wat: string, debugNames = true): string {
  const host = createTestHost({ wasm: watToWasm(wat, { debugNames }) });
  host.http().requestHeaders({ ":path": "/" }, { endOfStream: true });
  assert.ok(host.failure !== null, "the callback should have trapped");
  return host.failure;
}

test("a deep trap shows 20 frames, numbered right-aligned in 3 columns", () => {
  const report = trapReport(`(module ${COMMON}
    (func $dive (param $n i32)
      (if (i32.eqz (local.get $n)) (then unreachable))
      (call $dive (i32.sub (local.get $n) (i32.const 1))))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (call $dive (i32.const 40)) (i32.const 0)))`);
  const lines = report.split("\n");
  assert.equal(lines[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
  assert.equal(lines[1], "Proxy-Wasm plugin in-VM backtrace:");
  const frames = lines.slice(2);
  assert.equal(frames.length, 20, report);
  frames.forEach((frame, i) => assert.match(frame, new RegExp(`^${String(i).padStart(3, " ")}:  0x[0-9a-f]+ - dive$`)));
  assert.equal(frames[9]!.slice(0, 5), "  9: ");
  assert.equal(frames[10]!.slice(0, 5), " 10: ");
});

test("a frame whose function has no name shows as unknown(function index:N)", () => {
  // Function 2 (after the ABI marker and malloc) is left unnamed.
  const report = trapReport(`(module ${COMMON}
    (func (unreachable))
    (func $caller (call 2))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $caller) (i32.const 0)))`);
  const lines = report.split("\n");
  assert.match(lines[2]!, /^  0:  0x[0-9a-f]+ - unknown\(function index:2\)$/);
  assert.match(lines[3]!, /^  1:  0x[0-9a-f]+ - caller$/);
});

test("a module without function names gets no backtrace, as in cpp-host", () => {
  const report = trapReport(
    `(module ${COMMON} (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) unreachable))`,
    false,
  );
  assert.equal(report, "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
});

test("frame offsets are offsets in the module as given, also when the host rewrote it (start section, memory cap, interrupt checks)", () => {
  // i32.const 0x12345; drop; unreachable: a byte pattern found once, to locate `unreachable`.
  const wat = (extra: string, memory: string) => `(module
    ${memory}
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func $boom (drop (i32.const 0x12345)) unreachable)
    (func $init)
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $boom) (i32.const 0))
    ${extra})`;
  for (const [extra, memory] of [
    ["", `(memory (export "memory") 1 1)`],
    ["(start $init)", `(memory (export "memory") 1 1)`],
    ["(start $init)", `(memory (export "memory") 1)`],
  ] as const) {
    const bytes = watToWasm(wat(extra, memory), { debugNames: true });
    const pattern = [0x41, 0xc5, 0xc6, 0x04, 0x1a, 0x00];
    const at = bytes.findIndex((_, i) => pattern.every((b, j) => bytes[i + j] === b));
    assert.ok(at > 0);
    // With a time limit the module is also compiled with interrupt checks (interrupt-instrumentation.ts).
    for (const callbackTimeLimitMs of [undefined, 1000]) {
      const host = createTestHost({ wasm: bytes, callbackTimeLimitMs });
      host.http().requestHeaders({ ":path": "/" }, { endOfStream: true });
      const frame = host.failure!.split("\n")[2]!;
      assert.equal(frame, `  0:  0x${(at + 5).toString(16)} - boom`, `${extra} ${memory} ${callbackTimeLimitMs}`);
    }
  }
});

test("a callback stopped by the time limit points at an instruction of its loop in the module as given", () => {
  // i32.const 0x12345; drop: the loop's first instruction, found once in the binary.
  const bytes = watToWasm(`(module ${COMMON}
    (func $spin (loop $forever (drop (i32.const 0x12345)) (br $forever)))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $spin) (i32.const 0)))`, { debugNames: true });
  const pattern = [0x41, 0xc5, 0xc6, 0x04, 0x1a];
  const at = bytes.findIndex((_, i) => pattern.every((b, j) => bytes[i + j] === b));
  const host = createTestHost({ wasm: bytes, callbackTimeLimitMs: 50 });
  host.http().requestHeaders({ ":path": "/" }, { endOfStream: true });
  const lines = host.failure!.split("\n");
  assert.equal(lines[0], "Function: proxy_on_request_headers failed: callback time limit (50 ms) exceeded");
  assert.equal(lines[2], `  0:  0x${at.toString(16)} - spin`);
});
