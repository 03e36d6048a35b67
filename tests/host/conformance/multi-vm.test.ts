/**
 * Reference §4.3/§4.4 (several plugins on one VM, each with its own root context), the process a
 * test host shares with others (`shareProcessWith`), and the test kit's strict mode.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { Plugin } from "../../../src/host";
import { conformanceModule, OUT } from "./conformance-module";

const ROOTS = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param $id i32) (param $parent i32)
    ${w.log("create", "(local.get $id)")}
    ${w.log("parent", "(local.get $parent)")})
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    ${w.log("vm_start", "(local.get $root)")}
    ${w.log("root_id", `(call $proxy_get_property ${w.str("plugin_root_id")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.logOut()}
    (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("configure", "(local.get $root)")}
    (i32.const 1))
`);

test("§4.3/§4.4: a second plugin on the same VM gets its own root context, on_vm_start and on_configure", () => {
  const host = createTestHost({ wasm: ROOTS, rootId: "first", vmId: "vm" });
  assert.deepEqual(host.logs.lines, [
    "wasm log first vm: create=1",
    "wasm log first vm: parent=0",
    "wasm log first vm: vm_start=1",
    "wasm log first vm: root_id=0",
    "wasm log first vm: first",
    "wasm log first vm: configure=1",
  ]);
  host.logs.clear();
  const second = new Plugin(host.vm, { name: "p2", rootId: "second" });
  second.start();
  assert.deepEqual(host.logs.lines, [
    "wasm log second vm: create=2",
    "wasm log second vm: parent=0",
    "wasm log second vm: vm_start=2",
    "wasm log second vm: root_id=0",
    "wasm log second vm: second",
    "wasm log second vm: configure=2",
  ]);
  host.logs.clear();
  const stream = second.createStreamContext("http");
  assert.equal(stream.id, 3);
  assert.deepEqual(host.logs.lines, ["wasm log p2 second vm: create=3", "wasm log p2 second vm: parent=2"]);
});

test("shareProcessWith: separate VMs (separate memories, context ids from 1) share clock and log recorder", () => {
  const a = createTestHost({ wasm: ROOTS, rootId: "a" });
  const b = createTestHost({ wasm: ROOTS, rootId: "b", shareProcessWith: a });
  assert.notEqual(a.vm, b.vm);
  assert.equal(b.rootContextId, 1);
  assert.equal(a.clock, b.clock);
  assert.deepEqual(a.logs.messages.filter((m) => m.startsWith("vm_start")), ["vm_start=1", "vm_start=1"]);
});

const NOSY = conformanceModule((w) => `
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("plugin_config", `(call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const -1) (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("request_header", `(call $proxy_get_header_map_value (i32.const 0) ${w.str(":path")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    (i32.const 0))
`);

test("strict mode: a hostcall asking for data its callback does not have throws from the stream call, with the Envoy code still returned", () => {
  const host = createTestHost({ wasm: NOSY, strict: true });
  const stream = host.http();
  assert.throws(
    () => stream.requestHeaders({ ":path": "/" }, { endOfStream: true }),
    { message: "strict mode: hostcall not allowed here:\nproxy_get_buffer_bytes in proxy_on_request_headers (context 2): buffer 7 is not available in this callback" },
  );
  assert.ok(host.logs.contains("plugin_config=1"));
  assert.throws(() => stream.responseHeaders({ ":status": "200" }), /proxy_get_header_map_value in proxy_on_response_headers \(context 2\)/);
  assert.ok(host.logs.contains("request_header=2"));

  const relaxed = createTestHost({ wasm: NOSY });
  const relaxedStream = relaxed.http();
  assert.equal(relaxedStream.requestHeaders({ ":path": "/" }, { endOfStream: true }), "Continue");
  assert.equal(relaxedStream.responseHeaders({ ":status": "200" }), "Continue");
});
