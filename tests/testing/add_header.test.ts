import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../src/testing";

const WASM = new URL("../../examples/add_header/build/add_header.wasm", import.meta.url);


test("add_header: response gets the configured header, location rewritten and hello: world!", () => {
  const host = createTestHost({ wasm: WASM, pluginName: "add_header", pluginConfig: { name: "x-wasm", value: "yes" } });
  const result = host.flow({
    request: { headers: [[":method", "GET"], [":path", "/"], [":authority", "example.com"]] },
    response: { headers: [[":status", "302"], ["location", "http://elsewhere/"]] },
  });
  assert.deepEqual(result.upstream.headers, [[":method", "GET"], [":path", "/"], [":authority", "example.com"]]);
  assert.deepEqual(result.downstream.headers, [
    [":status", "302"],
    ["location", "envoy-wasm"],
    ["x-wasm", "yes"],
    ["hello", "world!"],
  ]);
  assert.equal(result.localResponse, null);
  assert.equal(host.failure, null);
});

test("add_header: without configuration only the fixed rewrites happen", () => {
  const host = createTestHost({ wasm: WASM });
  const stream = host.http();
  assert.equal(stream.requestHeaders({ ":method": "GET", ":path": "/", ":authority": "a" }, { endOfStream: true }), "Continue");
  assert.equal(stream.contextId, 2);
  assert.equal(stream.responseHeaders({ ":status": "200" }, { endOfStream: true }), "Continue");
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["location", "envoy-wasm"], ["hello", "world!"]]);
  assert.equal(stream.downstream.ended, true);
  stream.complete();
  assert.equal(host.vm.contexts.size, 1, "only the root context is left");
});

test("add_header: a bad configuration is rejected at configure with the filter's error log", () => {
  assert.throws(() => createTestHost({ wasm: WASM, pluginConfig: { nope: 1 } }), { name: "PluginStartError", message: /proxy_on_configure/ });
});

test("add_header: no memory leak and no context leak over 200 requests", () => {
  const host = createTestHost({ wasm: WASM, pluginConfig: { name: "x-wasm", value: "yes" } });
  const { memoryGrowth } = host.leakCheck(200, () => {
    host.flow({ request: { headers: { ":method": "GET", ":path": "/", ":authority": "a" } } });
  });
  assert.ok(memoryGrowth <= 65536);
});
