import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TcpConnectionHandle, type TestHost } from "proxy-wasm-as/testing";
import type { PropertyValue } from "proxy-wasm-as";

const wasm = new URL("../build/envoy_tcp_routing.wasm", import.meta.url);

/** One plugin serves every connection below, as one Envoy listener does; each has its own source address. */
const host = createTestHost({ wasm });

/** Opens a connection from `sourceAddress` on the shared host; returns it and the new-connection status. */
function connectFrom(sourceAddress: PropertyValue) {
  const connection = host.tcp({ properties: { source: { address: sourceAddress } } });
  const status = connection.newConnection();
  return { status, connection };
}

/** The connection's own wasm log messages at `level`. */
function wasmMessages(connection: TcpConnectionHandle, level: string, on: TestHost = host): string[] {
  return on.logs.records.filter((r) => r.source === "wasm" && r.level === level && r.contextId === connection.contextId).map((r) => r.message);
}

/** The SetEnvoyFilterStateArguments bytes Envoy expects: span FilterChain (0) is left out by proto3. */
function expectedArguments(cluster: string): Uint8Array {
  const path = Buffer.from("envoy.tcp_proxy.cluster");
  const value = Buffer.from(cluster);
  return new Uint8Array([0x0a, path.length, ...path, 0x12, value.length, ...value]);
}

/** The connection's own `set_envoy_filter_state` calls. */
function filterStateCalls(connection: TcpConnectionHandle, on: TestHost = host) {
  return on.process.foreignFunctions.recorded.filter((call) => call.name === "set_envoy_filter_state" && call.contextId === connection.contextId);
}

for (const [address, cluster] of [
  ["192.168.1.10", "egress-router1"],
  ["172.21.0.11:58762", "egress-router2"],
  ["[2001:db8::3]:8080", "egress-router2"],
  ["2001:db8::a", "egress-router1"],
  ["[::ffff:10.0.0.7]:443", "egress-router2"],
  ["[::]:80", "egress-router1"],
  ["0.0.0.0", "egress-router1"],
  ["255.255.255.255:65535", "egress-router2"],
] as const) {
  test(`source ${address} is routed to ${cluster}`, () => {
    const { status, connection } = connectFrom(address);
    assert.equal(status, "Continue");
    const calls = filterStateCalls(connection);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.args, expectedArguments(cluster));
    assert.deepEqual(wasmMessages(connection, "info"), [`[TCP WASM] Routed source ${address} to ${cluster}`]);
    assert.deepEqual(wasmMessages(connection, "warn"), []);
  });
}

test("the foreign-function argument bytes are exactly 0a 17 envoy.tcp_proxy.cluster 12 0e egress-router1", () => {
  const { connection } = connectFrom("192.168.1.10");
  const hex = Buffer.from(filterStateCalls(connection)[0]!.args).toString("hex");
  assert.equal(hex, "0a17" + Buffer.from("envoy.tcp_proxy.cluster").toString("hex") + "120e" + Buffer.from("egress-router1").toString("hex"));
});

for (const address of [
  "invalid",
  "",
  "192.168.1",
  "192.168.1.256",
  "192.168.01.1",
  "1.2.3.4:",
  "1.2.3.4:65536",
  "1.2.3.4:http",
  "[2001:db8::3",
  "[2001:db8::3]8080",
  "2001:db8::3::1",
  "1:2:3:4:5:6:7:8:9",
  "12345::1",
]) {
  test(`unparsable source ${JSON.stringify(address)}: warning, no routing, Continue`, () => {
    const { status, connection } = connectFrom(address);
    assert.equal(status, "Continue");
    assert.deepEqual(filterStateCalls(connection), []);
    assert.deepEqual(wasmMessages(connection, "warn"), [`[TCP WASM] Could not parse source address: ${address}`]);
    assert.deepEqual(wasmMessages(connection, "info"), []);
  });
}

test("source address that is not UTF-8: warning, no routing, Continue", () => {
  const { status, connection } = connectFrom(new Uint8Array([0x31, 0x2e, 0xff]));
  assert.equal(status, "Continue");
  assert.deepEqual(filterStateCalls(connection), []);
  assert.deepEqual(wasmMessages(connection, "warn"), ["[TCP WASM] Source address is not valid UTF-8"]);
});

test("missing source address property: warning, Continue", () => {
  // The host computes source.address for every connection; overriding the whole `source`
  // attribute with null models a connection that has none.
  const connection = host.tcp({ properties: { source: null } });
  assert.equal(connection.newConnection(), "Continue");
  assert.deepEqual(filterStateCalls(connection), []);
  assert.deepEqual(wasmMessages(connection, "warn"), ["[TCP WASM] Missing source address property"]);
});

test("Envoy rejecting the filter state: warning with the status, the connection continues", () => {
  // A host of its own: the rejecting foreign function must not affect the other connections.
  const rejecting = createTestHost({ wasm });
  rejecting.registerForeignFunction("set_envoy_filter_state", () => ({ result: 2 }));
  const connection = rejecting.tcp({ properties: { source: { address: "10.1.2.4:5000" } } });
  assert.equal(connection.newConnection(), "Continue");
  assert.deepEqual(wasmMessages(connection, "warn", rejecting), ["[TCP WASM] Failed to set filter state envoy.tcp_proxy.cluster: WasmResult 2"]);
  assert.deepEqual(wasmMessages(connection, "info", rejecting), []);
});

test("connections from different sources on one host are routed independently, each with its own context", () => {
  const even = connectFrom("10.0.0.2:1000").connection;
  const odd = connectFrom("10.0.0.3:1000").connection;
  assert.notEqual(even.contextId, odd.contextId);
  assert.deepEqual(filterStateCalls(even).map((c) => c.args), [expectedArguments("egress-router1")]);
  assert.deepEqual(filterStateCalls(odd).map((c) => c.args), [expectedArguments("egress-router2")]);
  even.close();
  odd.close();
  assert.equal(host.vm.contexts.has(even.contextId), false);
  assert.equal(host.vm.contexts.has(odd.contextId), false);
});

test("configuration is logged quoted at start; no configuration logs nothing", () => {
  const startInfo = (started: TestHost) => started.logs.records.filter((r) => r.source === "wasm" && r.level === "info").map((r) => r.message);
  assert.deepEqual(startInfo(createTestHost({ wasm, pluginConfig: "route-by-source" })), ['[TCP WASM] Configuration: "route-by-source"']);
  assert.deepEqual(startInfo(createTestHost({ wasm })), []);
});

test("data flows through untouched after routing", () => {
  const { connection } = connectFrom("172.21.0.11:58762");
  assert.equal(connection.downstreamData("hello"), "Continue");
  assert.equal(connection.upstreamData("world"), "Continue");
  assert.equal(connection.upstream, "hello");
  assert.equal(connection.downstream, "world");
});

test("12 connections open at once are all routed: the context table grows while garbage is collected after every callback", () => {
  // Routing allocates (the address text, its parts), and the collector runs after each callback
  // (the SDK's assembly/runtime/collect.ts), so the grown context table is cut from freed,
  // dirty memory: its unused slots must be cleared, or the collector follows them and traps.
  const fresh = createTestHost({ wasm });
  const connections = Array.from({ length: 12 }, (_, i) => fresh.tcp({ properties: { source: { address: `10.0.0.${i}:${40000 + i}` } } }));
  assert.deepEqual(connections.map((connection) => connection.newConnection()), Array(12).fill("Continue"));
  assert.deepEqual(connections.map((connection) => filterStateCalls(connection, fresh).length), Array(12).fill(1));
  assert.equal(fresh.failure, null);
});
