/**
 * Reference §4.6.3–§4.6.5: how a TCP connection ends in Envoy (`context.cc` `onWrite`, `onEvent`,
 * `onDownstreamConnectionClose`, `onUpstreamConnectionClose`, `onCloseTCP`, `closeStream`). The
 * module logs every callback with its arguments, so each test pins the exact callback sequence.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { conformanceModule, OUT } from "./conformance-module";

/**
 * Data callbacks act on the first byte of their buffer: "c" closes DOWNSTREAM (2), "u" closes
 * UPSTREAM (3), "s" stops iteration, "t" traps, anything else continues.
 */
const CLOSER = conformanceModule((w) => `
  (func $act (param $buffer i32) (result i32)
    (local $first i32)
    (drop (call $proxy_get_buffer_bytes (local.get $buffer) (i32.const 0) (i32.const 1) (i32.const ${OUT.ptr}) (i32.const ${OUT.size})))
    (local.set $first (i32.load8_u (i32.load (i32.const ${OUT.ptr}))))
    (if (i32.eq (local.get $first) (i32.const 0x63))
      (then ${w.log("close_stream(2)", "(call $proxy_close_stream (i32.const 2))")}))
    (if (i32.eq (local.get $first) (i32.const 0x75))
      (then ${w.log("close_stream(3)", "(call $proxy_close_stream (i32.const 3))")}))
    (if (i32.eq (local.get $first) (i32.const 0x74)) (then unreachable))
    (i32.eq (local.get $first) (i32.const 0x73)))
  (func (export "proxy_on_configure") (param $id i32) (param $size i32) (result i32)
    (drop (call $proxy_set_tick_period_milliseconds (i32.const 1000)))
    (i32.const 1))
  ;; The root closes connection 2 from a timer, through the effective context.
  (func (export "proxy_on_tick") (param $id i32)
    ${w.log("tick", "(local.get $id)")}
    ${w.log("effective", "(call $proxy_set_effective_context (i32.const 2))")}
    ${w.log("close_stream(2)", "(call $proxy_close_stream (i32.const 2))")})
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${w.log("new_connection", "(local.get $id)")}
    (i32.const 0))
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("downstream_data", "(local.get $size)")}
    ${w.log("eos", "(local.get $eos)")}
    (call $act (i32.const 2)))
  (func (export "proxy_on_upstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("upstream_data", "(local.get $size)")}
    ${w.log("eos", "(local.get $eos)")}
    (call $act (i32.const 3)))
  (func (export "proxy_on_upstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("upstream_close", "(local.get $peer)")})
  (func (export "proxy_on_downstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("downstream_close", "(local.get $peer)")})
  (func (export "proxy_on_done") (param $id i32) (result i32)
    ${w.log("done", "(local.get $id)")}
    (i32.const 1))
  (func (export "proxy_on_log") (param $id i32)
    ${w.log("log", "(local.get $id)")})
  (func (export "proxy_on_delete") (param $id i32)
    ${w.log("delete", "(local.get $id)")})
`);

/** A host with one accepted connection (context 2) and the start-up logs cleared. */
function openConnection(options: { failurePolicy?: "fail_open" | "fail_closed" } = {}) {
  const host = createTestHost({ wasm: CLOSER, failurePolicy: options.failurePolicy });
  const connection = host.tcp();
  assert.equal(connection.newConnection(), "Continue");
  host.logs.clear();
  return { host, connection };
}

const FINISH_LOCAL = ["downstream_close=1", "done=2", "log=2", "delete=2"];
const FINISH_REMOTE = ["downstream_close=2", "done=2", "log=2", "delete=2"];

test("§4.6: a whole connection — data both ways, upstream end of stream, then the client closes", () => {
  const { host, connection } = openConnection();
  assert.equal(connection.downstreamData("hello"), "Continue");
  assert.equal(connection.upstreamData("world", { endOfStream: true }), "Continue");
  assert.deepEqual(host.logs.messages, ["downstream_data=5", "eos=0", "upstream_data=5", "eos=1", "upstream_close=0"]);
  assert.equal(host.vm.contexts.size, 2, "the upstream close does not end the context");
  assert.equal(connection.finished, false);
  connection.close("remote");
  assert.equal(connection.finished, true);
  assert.deepEqual(host.logs.messages.slice(5), FINISH_REMOTE);
  assert.equal(host.vm.contexts.size, 1, "only the root context is left");
  assert.equal(connection.upstream, "hello");
  assert.equal(connection.downstream, "world");
  assert.equal(connection.closedByHost, false);
});

test("§4.6.3: the upstream close follows the data callback even when that callback stopped iteration", () => {
  const { host, connection } = openConnection();
  assert.equal(connection.upstreamData("stop", { endOfStream: true }), "StopIteration");
  assert.deepEqual(host.logs.messages, ["upstream_data=4", "eos=1", "upstream_close=0"]);
  assert.equal(connection.downstream, "", "stopped data is held");
});

test("§4.6.3: upstream data without end of stream reports no close", () => {
  const { host, connection } = openConnection();
  connection.upstreamData("a");
  connection.downstreamData("b", { endOfStream: true });
  assert.deepEqual(host.logs.messages, ["upstream_data=1", "eos=0", "downstream_data=1", "eos=1"]);
});

test("§4.6.4: after the upstream closed, the connection keeps its context and data still reaches the plugin", () => {
  const { host, connection } = openConnection();
  connection.upstreamData("", { endOfStream: true });
  host.logs.clear();
  assert.equal(connection.downstreamData("more"), "Continue");
  assert.deepEqual(host.logs.messages, ["downstream_data=4", "eos=0"]);
  connection.close("local");
  assert.deepEqual(host.logs.messages.slice(2), FINISH_LOCAL);
});

test("§4.6.4: a close before newConnection calls nothing; the connection then takes no callbacks", () => {
  const host = createTestHost({ wasm: CLOSER });
  host.logs.clear();
  const connection = host.tcp();
  connection.close("remote");
  assert.equal(connection.newConnection(), "StopIteration");
  assert.equal(connection.downstreamData("x"), "StopIteration");
  assert.deepEqual(host.logs.messages, []);
  assert.equal(host.vm.contexts.size, 1);
});

test("§4.6.4: after the downstream closed, data and a second close reach no callback", () => {
  const { host, connection } = openConnection();
  connection.close("remote");
  host.logs.clear();
  assert.equal(connection.downstreamData("late"), "StopIteration");
  assert.equal(connection.upstreamData("late", { endOfStream: true }), "StopIteration");
  connection.close("local");
  assert.deepEqual(host.logs.messages, []);
  assert.equal(connection.upstream, "");
  assert.equal(connection.downstream, "");
});

test("§4.6.5: proxy_close_stream(DOWNSTREAM) in a data callback closes after it returns: LOCAL close, done, log, delete; the data is dropped", () => {
  const { host, connection } = openConnection();
  assert.equal(connection.downstreamData("close please"), "Continue");
  assert.deepEqual(host.logs.messages, ["downstream_data=12", "eos=0", "close_stream(2)=0", ...FINISH_LOCAL]);
  assert.equal(connection.closedByHost, true);
  assert.equal(connection.finished, true);
  assert.equal(connection.upstream, "", "bytes written after the close never leave");
  assert.equal(host.vm.contexts.size, 1);
  connection.close("remote");
  assert.equal(host.logs.messages.length, 7, "the client's close after the proxy's does nothing");
});

test("§4.6.5: proxy_close_stream(UPSTREAM) also closes the downstream connection (LOCAL)", () => {
  const { host, connection } = openConnection();
  assert.equal(connection.upstreamData("upstream close"), "Continue");
  assert.deepEqual(host.logs.messages, ["upstream_data=14", "eos=0", "close_stream(3)=0", ...FINISH_LOCAL]);
  assert.equal(connection.closedByHost, true);
  assert.equal(connection.downstream, "");
});

test("§4.6.5: a close in the end-of-stream upstream callback finishes the context; no upstream close reaches the deleted context", () => {
  const { host, connection } = openConnection();
  connection.upstreamData("closing", { endOfStream: true });
  assert.deepEqual(host.logs.messages, ["upstream_data=7", "eos=1", "close_stream(2)=0", ...FINISH_LOCAL]);
});

test("§4.6.5: a close requested from the root's tick through the effective context ends the connection after the tick", () => {
  const { host, connection } = openConnection();
  host.advanceTime(1000);
  assert.deepEqual(host.logs.messages, ["tick=1", "effective=0", "close_stream(2)=0", ...FINISH_LOCAL]);
  assert.equal(connection.closedByHost, true);
  assert.equal(connection.downstreamData("x"), "StopIteration");
  assert.equal(host.logs.messages.length, 7);
});

const CLOSE_ON_ACCEPT = conformanceModule((w) => `
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${w.log("new_connection", "(local.get $id)")}
    ${w.log("close_stream(2)", "(call $proxy_close_stream (i32.const 2))")}
    (i32.const 0))
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

test("§4.6.5: proxy_close_stream in proxy_on_new_connection: the connection is refused with the LOCAL close sequence", () => {
  const host = createTestHost({ wasm: CLOSE_ON_ACCEPT });
  host.logs.clear();
  const connection = host.tcp();
  assert.equal(connection.newConnection(), "StopIteration");
  assert.deepEqual(host.logs.messages, ["new_connection=2", "close_stream(2)=0", ...FINISH_LOCAL]);
  assert.equal(connection.closedByHost, true);
  assert.equal(host.vm.contexts.size, 1);
});

test("§4.10/§4.6: a trap under fail_closed closes the connection with no callback into the failed VM, and frees the context", () => {
  const { host, connection } = openConnection();
  assert.equal(connection.downstreamData("trap"), "StopIteration");
  assert.equal(connection.closedByHost, true);
  assert.deepEqual(host.logs.at("info"), ["downstream_data=4", "eos=0"]);
  assert.ok(host.failure?.startsWith("Function: proxy_on_downstream_data failed"), host.failure ?? "no failure");
  assert.equal(host.vm.contexts.size, 1);
  connection.close("remote");
  assert.deepEqual(host.logs.at("info"), ["downstream_data=4", "eos=0"]);
});

test("§4.10/§4.6: under fail_open a trapped VM passes data and the client's close reaches no callback", () => {
  const { host, connection } = openConnection({ failurePolicy: "fail_open" });
  assert.equal(connection.downstreamData("trap"), "Continue");
  assert.equal(connection.upstreamData("reply", { endOfStream: true }), "Continue");
  connection.close("remote");
  assert.deepEqual(host.logs.at("info"), ["downstream_data=4", "eos=0"]);
  assert.equal(connection.upstream, "trap");
  assert.equal(connection.downstream, "reply");
  assert.equal(connection.closedByHost, false);
  assert.equal(host.vm.contexts.size, 1);
});
