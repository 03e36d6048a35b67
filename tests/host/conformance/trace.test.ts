/**
 * Reference §8.2: the trace mode, one line per call across the ABI in cpp-host's format —
 * `[host->vm] name(args)` / `[host<-vm] name return: r` for calls into the module and
 * `[vm->host] module.name(args)` / `[vm<-host] module.name return: r` for hostcalls, values as
 * unsigned decimals, no return line for a call that trapped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "../../../src/testing";
import { conformanceModule, OUT } from "./conformance-module";

// String data lands at 0x100 upwards in order of use, 8-byte aligned: "request" 256, "x-trace"
// 264, "on" 272, ":status" 280. The prelude's bump allocator starts at 0x10000 (65536).
const FLOW = conformanceModule((w) => `
  (func (export "proxy_on_vm_start") (param $id i32) (param $size i32) (result i32) (i32.const 1))
  (func (export "proxy_on_context_create") (param $id i32) (param $parent i32))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.say("request")}
    (drop (call $proxy_add_header_map_value (i32.const 0) ${w.str("x-trace")} ${w.str("on")}))
    (drop (call $proxy_get_buffer_status (i32.const -1) (i32.const ${OUT.size}) (i32.const ${OUT.extra})))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (drop (call $proxy_get_header_map_value (i32.const 2) ${w.str(":status")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size})))
    (i32.const 0))
  (func (export "proxy_on_done") (param $id i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param $id i32))
  (func (export "proxy_on_delete") (param $id i32))
`);

const START_LINES = [
  "[host->vm] _initialize()",
  "[host<-vm] _initialize return: void",
  "[host->vm] proxy_on_context_create(1, 0)",
  "[host<-vm] proxy_on_context_create return: void",
  "[host->vm] proxy_on_vm_start(1, 0)",
  "[host<-vm] proxy_on_vm_start return: 1",
];

const FLOW_LINES = [
  "[host->vm] proxy_on_context_create(2, 1)",
  "[host<-vm] proxy_on_context_create return: void",
  "[host->vm] proxy_on_request_headers(2, 3, 1)",
  "[vm->host] env.proxy_log(2, 256, 7)",
  "[vm<-host] env.proxy_log return: 0",
  "[vm->host] env.proxy_add_header_map_value(0, 264, 7, 272, 2)",
  "[vm<-host] env.proxy_add_header_map_value return: 0",
  "[vm->host] env.proxy_get_buffer_status(4294967295, 68, 72)",
  "[vm<-host] env.proxy_get_buffer_status return: 2",
  "[host<-vm] proxy_on_request_headers return: 0",
  "[host->vm] proxy_on_response_headers(2, 1, 1)",
  "[vm->host] env.proxy_get_header_map_value(2, 280, 7, 64, 68)",
  "[host->vm] malloc(3)",
  "[host<-vm] malloc return: 65536",
  "[vm<-host] env.proxy_get_header_map_value return: 0",
  "[host<-vm] proxy_on_response_headers return: 0",
  "[host->vm] proxy_on_log(2)",
  "[host<-vm] proxy_on_log return: void",
  "[host->vm] proxy_on_done(2)",
  "[host<-vm] proxy_on_done return: 1",
  "[host->vm] proxy_on_delete(2)",
  "[host<-vm] proxy_on_delete return: void",
];

const REQUEST = { request: { headers: { ":method": "GET", ":path": "/", ":authority": "example.com" } } };

test("trace: start (no line for exports the module lacks, such as proxy_on_configure), then one request, exactly", () => {
  const host = createTestHost({ wasm: FLOW, trace: () => undefined });
  assert.deepEqual(host.traceLines, START_LINES);
  host.clearTrace();
  const result = host.flow(REQUEST);
  assert.equal(result.upstream.header("x-trace"), "on");
  assert.deepEqual(host.traceLines, FLOW_LINES);
});

test("trace: a function receives every line as it happens, in the same order", () => {
  const received: string[] = [];
  const logCountAtTrace: number[] = [];
  let host: TestHost | undefined;
  host = createTestHost({
    wasm: FLOW,
    trace: (line) => {
      received.push(line);
      logCountAtTrace.push(host === undefined ? 0 : host.logs.records.filter((r) => r.source === "wasm").length);
    },
  });
  host.flow(REQUEST);
  assert.deepEqual(received, [...START_LINES, ...FLOW_LINES]);
  const call = received.indexOf("[vm->host] env.proxy_log(2, 256, 7)");
  assert.deepEqual([logCountAtTrace[call], logCountAtTrace[call + 1]], [0, 1], "the call line comes before the log line, the return line after");
});

test("trace: true prints each line to stderr", () => {
  const printed: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    createTestHost({ wasm: FLOW, trace: true });
  } finally {
    process.stderr.write = original;
  }
  assert.deepEqual(printed, START_LINES.map((line) => line + "\n"));
});

test("trace off: no observer is installed and traceLines refuses to answer", () => {
  const host = createTestHost({ wasm: FLOW });
  assert.equal(host.vm.onCallback, undefined);
  assert.equal(host.vm.onHostcall, undefined);
  assert.throws(() => host.traceLines, /create the test host with \{ trace: true \}/);
  const off = createTestHost({ wasm: FLOW, trace: false });
  assert.equal(off.vm.onCallback, undefined);
  assert.throws(() => off.clearTrace(), /create the test host with/);
});

const TRAP_AND_I64 = conformanceModule((w) => `
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (drop (call $proxy_define_metric (i32.const 0) ${w.str("hits")} (i32.const ${OUT.ptr})))
    (drop (call $proxy_increment_metric (i32.load (i32.const ${OUT.ptr})) (i64.const -1)))
    unreachable)
`);

test("trace: i64 arguments print unsigned; a trapping callback gets no return line", () => {
  const host = createTestHost({ wasm: TRAP_AND_I64, trace: () => undefined });
  host.clearTrace();
  host.http().requestHeaders({ ":method": "GET", ":path": "/", ":authority": "a" }, { endOfStream: true });
  assert.deepEqual(host.traceLines, [
    "[host->vm] proxy_on_request_headers(2, 3, 1)",
    "[vm->host] env.proxy_define_metric(0, 256, 4, 64)",
    "[vm<-host] env.proxy_define_metric return: 0",
    "[vm->host] env.proxy_increment_metric(4, 18446744073709551615)",
    "[vm<-host] env.proxy_increment_metric return: 2",
  ]);
  assert.ok(host.failure?.startsWith("Function: proxy_on_request_headers failed"), host.failure ?? "no failure");
});

test("trace and onHostcall together: both see every hostcall, the observer's result hook too", () => {
  const observed: string[] = [];
  const host = createTestHost({
    wasm: FLOW,
    trace: () => undefined,
    onHostcall: (module, name) => (result) => observed.push(`${module}.${name}=${result}`),
  });
  host.clearTrace();
  host.flow(REQUEST);
  assert.deepEqual(observed, ["env.proxy_log=0", "env.proxy_add_header_map_value=0", "env.proxy_get_buffer_status=2", "env.proxy_get_header_map_value=0"]);
  assert.deepEqual(host.traceLines, FLOW_LINES);
});
