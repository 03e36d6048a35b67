/**
 * Reference §4.6 (TCP network filter in Envoy), §5.4 (TCP data buffers) and §5.6 (stream control
 * on connections).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { conformanceModule, OUT } from "./conformance-module";

const RECORDER = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param $id i32) (param $parent i32)
    ${w.log("create", "(local.get $id)")}
    ${w.log("parent", "(local.get $parent)")})
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${w.log("new_connection", "(local.get $id)")}
    (i32.const 0))
  ;; Holds data until end of stream, then replaces the first 4 bytes and continues.
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("downstream_data", "(local.get $size)")}
    ${w.log("eos", "(local.get $eos)")}
    ${w.log("read", `(call $proxy_get_buffer_bytes (i32.const 2) (i32.const 0) (i32.const -1) (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.logOut()}
    ${w.log("other_side", `(call $proxy_get_buffer_status (i32.const 3) (i32.const ${OUT.size}) (i32.const ${OUT.extra}))`)}
    ${w.logU32("other_side_size", OUT.size)}
    (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
    ${w.log("replace", `(call $proxy_set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 4) ${w.str("PONG")})`)}
    (i32.const 0))
  ;; Appends "!" and continues.
  (func (export "proxy_on_upstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("upstream_data", "(local.get $size)")}
    ${w.log("eos", "(local.get $eos)")}
    ${w.log("append", `(call $proxy_set_buffer_bytes (i32.const 3) (i32.const -1) (i32.const 0) ${w.str("!")})`)}
    (i32.const 0))
  (func (export "proxy_on_upstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("upstream_close", "(local.get $peer)")})
  (func (export "proxy_on_downstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("downstream_close", "(local.get $peer)")})
  (func (export "proxy_on_done") (param $id i32) (result i32)
    ${w.log("done", "(local.get $id)")}
    (i32.const 0))
  (func (export "proxy_on_log") (param $id i32)
    ${w.log("log", "(local.get $id)")})
  (func (export "proxy_on_delete") (param $id i32)
    ${w.log("delete", "(local.get $id)")})
`);

function recorderHost() {
  const host = createTestHost({ wasm: RECORDER, pluginName: "tcp" });
  host.logs.clear();
  return host;
}

test("§4.6.1: a new connection creates the stream context under the root, then proxy_on_new_connection", () => {
  const host = recorderHost();
  const connection = host.tcp();
  assert.equal(connection.newConnection(), "Continue");
  assert.deepEqual(host.logs.lines, ["wasm log tcp: create=2", "wasm log tcp: parent=1", "wasm log tcp: new_connection=2"]);
  assert.equal(connection.contextId, 2);
});

test("§4.6.2: StopIteration keeps downstream data; the next callback's size counts the accumulated bytes", () => {
  const host = recorderHost();
  const connection = host.tcp();
  connection.newConnection();
  host.logs.clear();
  assert.equal(connection.downstreamData("ping"), "StopIteration");
  assert.equal(connection.upstream, "", "held data is not forwarded");
  assert.equal(connection.downstreamData("-more", { endOfStream: true }), "Continue");
  assert.deepEqual(host.logs.messages, [
    "downstream_data=4",
    "eos=0",
    "read=0",
    "ping",
    "other_side=0",
    "other_side_size=0",
    "downstream_data=9",
    "eos=1",
    "read=0",
    "ping-more",
    "other_side=0",
    "other_side_size=0",
    "replace=0",
  ]);
  assert.equal(connection.upstream, "PONG-more");
});

test("§4.6.3/§5.4: upstream data is appended to and an upstream end of stream reports close with UNKNOWN (0)", () => {
  const host = recorderHost();
  const connection = host.tcp();
  connection.newConnection();
  host.logs.clear();
  assert.equal(connection.upstreamData("hello", { endOfStream: true }), "Continue");
  assert.deepEqual(host.logs.messages, ["upstream_data=5", "eos=1", "append=0", "upstream_close=0"]);
  assert.equal(connection.downstream, "hello!");
});

test("§4.6.4/§7 #5: a remote downstream close is followed by done, log, delete (TCP order); on_done's 0 is ignored", () => {
  const host = recorderHost();
  const connection = host.tcp();
  connection.newConnection();
  host.logs.clear();
  connection.close("remote");
  assert.deepEqual(host.logs.messages, ["downstream_close=2", "done=2", "log=2", "delete=2"]);
  assert.equal(host.vm.contexts.size, 1, "only the root context is left");
});

test("§4.6.4: a local close reports LOCAL (1); a second close does nothing", () => {
  const host = recorderHost();
  const connection = host.tcp();
  connection.newConnection();
  host.logs.clear();
  connection.close("local");
  connection.close("remote");
  assert.deepEqual(host.logs.messages, ["downstream_close=1", "done=2", "log=2", "delete=2"]);
});

test("§4.4: each connection gets the next id from the per-VM counter", () => {
  const host = recorderHost();
  const first = host.tcp();
  first.newConnection();
  first.close();
  const second = host.tcp();
  second.newConnection();
  assert.equal(second.contextId, 3);
});

const CONTROL = conformanceModule((w) => `
  ;; Stops on every downstream chunk; "go" resumes reading, "bye" closes the connection.
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${w.log("stop_new", "(i32.const 1)")}
    (i32.const 1))
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("downstream_data", "(local.get $size)")}
    (i32.const 1))
  (func (export "proxy_on_upstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    (drop (call $proxy_get_buffer_bytes (i32.const 3) (i32.const 0) (i32.const -1) (i32.const ${OUT.ptr}) (i32.const ${OUT.size})))
    (if (i32.eq (i32.load16_u (i32.load (i32.const ${OUT.ptr}))) (i32.const 0x6f67)) ;; "go"
      (then
        ${w.log("continue_downstream", "(call $proxy_continue_stream (i32.const 2))")}
        ${w.log("continue_upstream", "(call $proxy_continue_stream (i32.const 3))")}
        ${w.log("continue_bad", "(call $proxy_continue_stream (i32.const 4))")}))
    (if (i32.eq (i32.load16_u (i32.load (i32.const ${OUT.ptr}))) (i32.const 0x7962)) ;; "by"
      (then
        ${w.log("close_bad", "(call $proxy_close_stream (i32.const 4))")}
        ${w.log("close_downstream", "(call $proxy_close_stream (i32.const 2))")}))
    (i32.const 0))
`);

test("§5.6: proxy_continue_stream(DOWNSTREAM) resumes held data after the callback; UPSTREAM is Unimplemented; > 3 BadArgument", () => {
  const host = createTestHost({ wasm: CONTROL });
  const connection = host.tcp();
  assert.equal(connection.newConnection(), "StopIteration");
  assert.equal(connection.downstreamData("abc"), "StopIteration");
  assert.equal(connection.downstreamData("def"), "StopIteration");
  assert.equal(connection.upstream, "");
  host.logs.clear();
  assert.equal(connection.upstreamData("go"), "Continue");
  assert.deepEqual(host.logs.messages, ["continue_downstream=0", "continue_upstream=12", "continue_bad=2"]);
  assert.equal(connection.upstream, "abcdef");
  assert.equal(connection.downstream, "go");
  assert.equal(connection.closedByHost, false);
});

test("§5.6: proxy_close_stream(DOWNSTREAM) closes the connection after the callback; > 3 is BadArgument", () => {
  const host = createTestHost({ wasm: CONTROL });
  const connection = host.tcp();
  connection.newConnection();
  host.logs.clear();
  connection.upstreamData("bye");
  assert.deepEqual(host.logs.messages, ["close_bad=2", "close_downstream=0"]);
  assert.equal(connection.closedByHost, true);
  assert.equal(connection.downstreamData("late"), "StopIteration", "no callback after the host closed the connection");
  assert.deepEqual(host.logs.messages, ["close_bad=2", "close_downstream=0"]);
});

const TRAP = conformanceModule((w) => `
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.say("about to trap")}
    unreachable)
`);

test("§4.10: a trap in a TCP callback closes the connection under fail_closed and passes data under fail_open", () => {
  const closed = createTestHost({ wasm: TRAP });
  const a = closed.tcp();
  a.newConnection();
  assert.equal(a.downstreamData("x"), "StopIteration");
  assert.equal(a.closedByHost, true);
  assert.equal(a.upstream, "");
  assert.ok(closed.failure?.startsWith("Function: proxy_on_downstream_data failed"), closed.failure ?? "no failure");

  const open = createTestHost({ wasm: TRAP, failurePolicy: "fail_open" });
  const b = open.tcp();
  b.newConnection();
  assert.equal(b.downstreamData("x"), "Continue");
  assert.equal(b.closedByHost, false);
  assert.equal(b.upstream, "x");
  assert.equal(b.downstreamData("y"), "Continue");
  assert.equal(b.upstream, "xy");
});
