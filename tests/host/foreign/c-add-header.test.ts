import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { C_ADD_HEADER } from "./foreign-fixtures";

const REQUEST: [string, string][] = [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "example.com"],
];

test("C add_header (clang, WASI reactor): configured header, location rewritten, hello: world!", () => {
  const host = createTestHost({ wasm: C_ADD_HEADER, pluginConfig: { name: "x-wasm", value: "yes" } });
  const result = host.flow({
    request: { headers: REQUEST },
    response: { headers: [[":status", "302"], ["location", "http://elsewhere/"]] },
  });
  assert.deepEqual(result.upstream.headers, REQUEST);
  assert.deepEqual(result.downstream.headers, [
    [":status", "302"],
    ["location", "envoy-wasm"],
    ["x-wasm", "yes"],
    ["hello", "world!"],
  ]);
  assert.deepEqual(host.logs.messages, ["add_header: VM started"]);
  assert.equal(host.failure, null);
});

test("C add_header: printf + fflush(stdout) reach Envoy's log at info as one line; getenv reads the VM's environment", () => {
  const host = createTestHost({ wasm: C_ADD_HEADER, pluginName: "add_header", environment: { ADD_HEADER_GREETING: "hi there" } });
  assert.deepEqual(host.logs.records.map((r) => [r.level, r.line, r.contextId]), [
    ["info", "wasm log: add_header: VM started, greeting: hi there", 1],
  ]);
});

test("C add_header: `hello: world!` is set by a C constructor, so it proves the host ran _initialize", () => {
  const host = createTestHost({ wasm: C_ADD_HEADER });
  const result = host.flow({ request: { headers: REQUEST }, response: { headers: [[":status", "200"]] } });
  // No location upstream: replace adds it, as Envoy's setCopy does.
  assert.deepEqual(result.downstream.headers, [[":status", "200"], ["location", "envoy-wasm"], ["hello", "world!"]]);
});

test("C add_header: configuration is read through malloc'd buffers (wasi-libc allocator) and accepts any member order", () => {
  const host = createTestHost({ wasm: C_ADD_HEADER, pluginConfig: ' { "value" : "demo-wasm", "name":"x-wasm-header" } ' });
  const result = host.flow({ request: { headers: REQUEST } });
  assert.deepEqual(result.downstream.headers, [[":status", "200"], ["x-wasm-header", "demo-wasm"], ["location", "envoy-wasm"], ["hello", "world!"]]);
});

test("C add_header: a configuration of the wrong shape fails proxy_on_configure with the filter's error log", () => {
  for (const config of ['{"nope": "1"}', '{"name": "x"}', "not json", '{"name": "x", "value": "y"} trailing']) {
    // A host sharing the process keeps the log lines of the plugin that failed to start.
    const witness = createTestHost({ wasm: C_ADD_HEADER });
    assert.throws(() => createTestHost({ wasm: C_ADD_HEADER, pluginConfig: config, shareProcessWith: witness }), {
      name: "PluginStartError",
      message: /proxy_on_configure/,
    });
    assert.deepEqual(
      witness.logs.records.filter((r) => r.source === "wasm").map((r) => [r.level, r.message]),
      [
        ["info", "add_header: VM started"],
        ["info", "add_header: VM started"],
        ["error", 'add_header: configuration must be {"name": "<header>", "value": "<value>"}'],
      ],
      config,
    );
  }
});
