import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/network.wasm", import.meta.url);

/** What Envoy would expose for the README's cluster: its address and its `location` filter metadata. */
const upstreamProperties = {
  upstream: { address: "127.0.0.1:8099" },
  xds: {
    cluster_metadata: {
      filter_metadata: { location: { region: "ap-northeast-1", cloud_provider: "aws", az: "ap-northeast-1a" } },
    },
  },
};

const httpRequest = "GET / HTTP/1.1\r\nHost: localhost\r\nThis-Is-Key: this-is-value\r\nConnection: close\r\n\r\n";
const httpResponse = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

function wasmMessages(host: TestHost, level: string): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === level).map((r) => r.message);
}

test("a whole connection: every log line in order, the bytes pass through, the counter counts it", () => {
  const host = createTestHost({ wasm, properties: upstreamProperties });
  // Defined at VM start, so the stat exists before any connection.
  assert.equal(host.metric("proxy_wasm_as.connection_counter"), 0n);

  const connection = host.tcp();
  assert.equal(connection.newConnection(), "Continue");
  assert.equal(connection.downstreamData(httpRequest), "Continue");
  assert.equal(connection.upstreamData(httpResponse), "Continue");
  connection.close("remote");

  assert.equal(connection.upstream, httpRequest);
  assert.equal(connection.downstream, httpResponse);
  assert.deepEqual(wasmMessages(host, "info"), [
    "new connection!",
    `>>>>>> downstream data received >>>>>>\n${httpRequest}`,
    "remote address: 127.0.0.1:8099",
    "upstream cluster metadata location[region]=ap-northeast-1",
    "upstream cluster metadata location[cloud_provider]=aws",
    "upstream cluster metadata location[az]=ap-northeast-1a",
    `<<<<<< upstream data received <<<<<<\n${httpResponse}`,
    "downstream connection close!",
    "connection complete!",
  ]);
  assert.deepEqual(wasmMessages(host, "warn"), []);
  assert.equal(host.metric("proxy_wasm_as.connection_counter"), 1n);
  assert.equal(host.metric("wasmcustom.proxy_wasm_as.connection_counter"), 1n);
});

test("the counter counts each completed connection", () => {
  const host = createTestHost({ wasm, properties: upstreamProperties });
  for (let i = 0; i < 3; i++) {
    const connection = host.tcp();
    connection.newConnection();
    connection.downstreamData("ping");
    connection.close(i % 2 === 0 ? "remote" : "local");
  }
  assert.equal(host.metric("proxy_wasm_as.connection_counter"), 3n);
  assert.equal(wasmMessages(host, "info").filter((m) => m === "connection complete!").length, 3);
});

test("empty data chunks are not logged", () => {
  const host = createTestHost({ wasm, properties: upstreamProperties });
  const connection = host.tcp();
  connection.newConnection();
  assert.equal(connection.downstreamData("", { endOfStream: true }), "Continue");
  assert.equal(connection.upstreamData("", { endOfStream: true }), "Continue");
  assert.deepEqual(wasmMessages(host, "info"), ["new connection!"]);
});

test("older Envoy: the top-level cluster_metadata attribute is used when xds.cluster_metadata is absent", () => {
  const host = createTestHost({
    wasm,
    properties: {
      upstream: { address: "10.0.0.2:443" },
      cluster_metadata: { filter_metadata: { location: { region: "eu-west-1" } } },
    },
  });
  const connection = host.tcp();
  connection.newConnection();
  connection.upstreamData("pong");
  assert.deepEqual(wasmMessages(host, "info"), [
    "new connection!",
    "remote address: 10.0.0.2:443",
    "upstream cluster metadata location[region]=eu-west-1",
    "<<<<<< upstream data received <<<<<<\npong",
  ]);
});

test("missing upstream properties: warnings, and the data still passes and is logged", () => {
  const host = createTestHost({ wasm });
  const connection = host.tcp();
  connection.newConnection();
  assert.equal(connection.upstreamData("pong"), "Continue");
  assert.equal(connection.downstream, "pong");
  assert.deepEqual(wasmMessages(host, "warn"), [
    "failed to get upstream address: WasmResult 1",
    "failed to get upstream cluster metadata location: WasmResult 1",
  ]);
  assert.deepEqual(wasmMessages(host, "info"), ["new connection!", "<<<<<< upstream data received <<<<<<\npong"]);
});

test("memory stays flat and no context is left over 1000 connections", () => {
  const host = createTestHost({ wasm, properties: upstreamProperties });
  host.leakCheck(1000, () => {
    const connection = host.tcp();
    connection.newConnection();
    connection.downstreamData("ping");
    connection.upstreamData("pong");
    connection.close("remote");
  });
  assert.equal(host.metric("proxy_wasm_as.connection_counter"), 1003n);
});
