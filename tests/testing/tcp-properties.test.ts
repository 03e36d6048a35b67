/**
 * The test kit's per-connection properties: `host.tcp({ properties })` and
 * `PluginHandle.tcp({ properties })` override attributes for one connection only, layered over
 * the computed attributes and the plugin-wide `properties`, as `http({ properties })` does.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../src/testing";
import { conformanceModule, OUT } from "../host/conformance/conformance-module";

const PATH_SOURCE_ADDRESS = "source\0address";
const PATH_CLUSTER = "xds\0cluster_name";

/**
 * Logs, on every new connection, the result codes of reading `source.address` and
 * `xds.cluster_name`, each followed by the value when the read succeeded.
 */
const ADDRESS_LOGGER = conformanceModule((w) => {
  const read = (label: string, path: string) => `
    (local.set $r (call $proxy_get_property ${w.str(path)} (i32.const ${OUT.ptr}) (i32.const ${OUT.size})))
    ${w.log(label, "(local.get $r)")}
    (if (i32.eqz (local.get $r)) (then ${w.logOut()}))`;
  return `
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    (local $r i32)
    ${read("address_result", PATH_SOURCE_ADDRESS)}
    ${read("cluster_result", PATH_CLUSTER)}
    (i32.const 0))
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    (local $r i32)
    ${read("data_address_result", PATH_SOURCE_ADDRESS)}
    (i32.const 0))
`;
});

function quietHost(properties?: Record<string, unknown>) {
  const host = createTestHost({ wasm: ADDRESS_LOGGER, properties: properties as never });
  host.logs.clear();
  return host;
}

test("several connections on one host each see their own source.address", () => {
  const host = quietHost();
  const first = host.tcp({ properties: { source: { address: "10.0.0.1:5000" } } });
  const second = host.tcp({ properties: { source: { address: "[2001:db8::3]:8080" } } });
  first.newConnection();
  second.newConnection();
  first.downstreamData("x");
  assert.deepEqual(host.logs.messages, [
    "address_result=0", "10.0.0.1:5000", "cluster_result=1",
    "address_result=0", "[2001:db8::3]:8080", "cluster_result=1",
    "data_address_result=0", "10.0.0.1:5000",
  ]);
  assert.deepEqual([first.contextId, second.contextId], [2, 3]);
});

test("a connection without properties sees the computed source.address", () => {
  const host = quietHost();
  host.tcp({ properties: { source: { address: "10.9.9.9:1" } } }).newConnection();
  host.logs.clear();
  host.tcp().newConnection();
  assert.deepEqual(host.logs.messages.slice(0, 2), ["address_result=0", "127.0.0.1:40000"]);
});

test("per-connection properties override plugin-wide ones and leave the other plugin-wide values visible", () => {
  const host = quietHost({ source: { address: "192.168.0.1:1" }, xds: { cluster_name: "web" } });
  host.tcp().newConnection();
  host.tcp({ properties: { source: { address: "172.16.0.2:2" } } }).newConnection();
  assert.deepEqual(host.logs.messages, [
    "address_result=0", "192.168.0.1:1", "cluster_result=0", "web",
    "address_result=0", "172.16.0.2:2", "cluster_result=0", "web",
  ]);
});

test("a per-connection null removes the attribute for that connection only (NotFound = 1)", () => {
  const host = quietHost();
  host.tcp({ properties: { source: null } }).newConnection();
  host.tcp().newConnection();
  assert.deepEqual(host.logs.messages.filter((m) => m.startsWith("address_result")), ["address_result=1", "address_result=0"]);
});

test("bytes values reach the plugin unchanged, even when they are not UTF-8", () => {
  const host = quietHost();
  host.tcp({ properties: { source: { address: new Uint8Array([0x31, 0x2e, 0xff]) } } }).newConnection();
  assert.equal(host.logs.messages[0], "address_result=0");
  assert.equal(host.logs.records[1]!.message, new TextDecoder().decode(new Uint8Array([0x31, 0x2e, 0xff])));
});

test("PluginHandle.tcp takes per-connection properties too, over the handle's plugin-wide ones", () => {
  const host = quietHost();
  const plugin = host.addPlugin({ name: "second", properties: { xds: { cluster_name: "edge" } } });
  host.logs.clear();
  const connection = plugin.tcp({ properties: { source: { address: "10.1.1.1:7" } } });
  connection.newConnection();
  assert.deepEqual(host.logs.messages, ["address_result=0", "10.1.1.1:7", "cluster_result=0", "edge"]);
  assert.equal(connection.contextId, 3, "root 1, the added plugin's root 2, then this connection");
});
