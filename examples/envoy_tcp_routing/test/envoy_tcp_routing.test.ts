import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";
import type { PropertyValue } from "proxy-wasm-as";

const wasm = new URL("../build/envoy_tcp_routing.wasm", import.meta.url);

function wasmMessages(host: TestHost, level: string): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === level).map((r) => r.message);
}

/** The SetEnvoyFilterStateArguments bytes Envoy expects: span FilterChain (0) is left out by proto3. */
function expectedArguments(cluster: string): Uint8Array {
  const path = Buffer.from("envoy.tcp_proxy.cluster");
  const value = Buffer.from(cluster);
  return new Uint8Array([0x0a, path.length, ...path, 0x12, value.length, ...value]);
}

/** Opens one connection from `sourceAddress`; returns the host and the new-connection status. */
function connectFrom(sourceAddress: PropertyValue, pluginConfig?: string) {
  const host = createTestHost({ wasm, pluginConfig, properties: { source: { address: sourceAddress } } });
  const connection = host.tcp();
  const status = connection.newConnection();
  return { host, status, connection };
}

function filterStateCalls(host: TestHost) {
  return host.process.foreignFunctions.recorded.filter((call) => call.name === "set_envoy_filter_state");
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
    const { host, status } = connectFrom(address);
    assert.equal(status, "Continue");
    const calls = filterStateCalls(host);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.args, expectedArguments(cluster));
    assert.deepEqual(wasmMessages(host, "info"), [`[TCP WASM] Routed source ${address} to ${cluster}`]);
    assert.deepEqual(wasmMessages(host, "warn"), []);
  });
}

test("the foreign-function argument bytes are exactly 0a 17 envoy.tcp_proxy.cluster 12 0e egress-router1", () => {
  const { host } = connectFrom("192.168.1.10");
  const hex = Buffer.from(filterStateCalls(host)[0]!.args).toString("hex");
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
    const { host, status } = connectFrom(address);
    assert.equal(status, "Continue");
    assert.deepEqual(filterStateCalls(host), []);
    assert.deepEqual(wasmMessages(host, "warn"), [`[TCP WASM] Could not parse source address: ${address}`]);
    assert.deepEqual(wasmMessages(host, "info"), []);
  });
}

test("source address that is not UTF-8: warning, no routing, Continue", () => {
  const { host, status } = connectFrom(new Uint8Array([0x31, 0x2e, 0xff]));
  assert.equal(status, "Continue");
  assert.deepEqual(filterStateCalls(host), []);
  assert.deepEqual(wasmMessages(host, "warn"), ["[TCP WASM] Source address is not valid UTF-8"]);
});

test("missing source address property: warning, Continue", () => {
  // The host computes source.address for every connection; overriding the whole `source`
  // attribute with null models a listener that has none.
  const host = createTestHost({ wasm, properties: { source: null } });
  const connection = host.tcp();
  assert.equal(connection.newConnection(), "Continue");
  assert.deepEqual(filterStateCalls(host), []);
  assert.deepEqual(wasmMessages(host, "warn"), ["[TCP WASM] Missing source address property"]);
});

test("Envoy rejecting the filter state: warning with the status, the connection continues", () => {
  const host = createTestHost({ wasm, properties: { source: { address: "10.1.2.4:5000" } } });
  host.registerForeignFunction("set_envoy_filter_state", () => ({ result: 2 }));
  const connection = host.tcp();
  assert.equal(connection.newConnection(), "Continue");
  assert.deepEqual(wasmMessages(host, "warn"), ["[TCP WASM] Failed to set filter state envoy.tcp_proxy.cluster: WasmResult 2"]);
  assert.deepEqual(wasmMessages(host, "info"), []);
});

test("configuration is logged quoted at start; no configuration logs nothing", () => {
  const configured = createTestHost({ wasm, pluginConfig: "route-by-source" });
  assert.deepEqual(wasmMessages(configured, "info"), ['[TCP WASM] Configuration: "route-by-source"']);
  const plain = createTestHost({ wasm });
  assert.deepEqual(wasmMessages(plain, "info"), []);
});

test("data flows through untouched after routing", () => {
  const { connection } = connectFrom("172.21.0.11:58762");
  assert.equal(connection.downstreamData("hello"), "Continue");
  assert.equal(connection.upstreamData("world"), "Continue");
  assert.equal(connection.upstream, "hello");
  assert.equal(connection.downstream, "world");
});
