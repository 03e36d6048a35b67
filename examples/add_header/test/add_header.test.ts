import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";
import { PluginStartError } from "proxy-wasm-as";

const wasm = new URL("../build/add_header.wasm", import.meta.url);

const request = { headers: [[":method", "GET"], [":path", "/"], [":authority", "example.com"]] as [string, string][] };

function wasmMessages(host: TestHost, level: string): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === level).map((r) => r.message);
}

test("configured: the response gets the configured header, location rewritten and hello: world!", () => {
  const host = createTestHost({ wasm, pluginConfig: { name: "x-wasm-header", value: "demo-wasm" } });
  const result = host.flow({
    request,
    response: { headers: [[":status", "302"], ["location", "http://elsewhere.example/"]], body: "moved" },
  });
  // The request is untouched and reaches the upstream.
  assert.deepEqual(result.upstream.headers, request.headers);
  assert.equal(result.localResponse, null);
  assert.deepEqual(result.downstream.headers, [
    [":status", "302"],
    ["location", "envoy-wasm"],
    ["x-wasm-header", "demo-wasm"],
    ["hello", "world!"],
  ]);
  assert.equal(result.downstream.body, "moved");
  assert.deepEqual(wasmMessages(host, "error"), []);
});

test("without configuration only the fixed rewrites happen; a missing location is added", () => {
  const host = createTestHost({ wasm });
  const result = host.flow({ request, response: { headers: [[":status", "200"], ["content-type", "text/plain"]] } });
  // Envoy's replace adds a header that is absent.
  assert.deepEqual(result.downstream.headers, [
    [":status", "200"],
    ["content-type", "text/plain"],
    ["location", "envoy-wasm"],
    ["hello", "world!"],
  ]);
});

test("the response headers callback returns Continue", () => {
  const host = createTestHost({ wasm, pluginConfig: { name: "a", value: "b" } });
  const stream = host.http();
  assert.equal(stream.requestHeaders(request.headers, { endOfStream: true }), "Continue");
  assert.equal(stream.responseHeaders([[":status", "200"]], { endOfStream: true }), "Continue");
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["a", "b"], ["location", "envoy-wasm"], ["hello", "world!"]]);
  stream.complete();
});

test("an existing hello header keeps its value and gets a second one (add, not replace)", () => {
  const host = createTestHost({ wasm });
  const result = host.flow({ request, response: { headers: [[":status", "200"], ["hello", "there"]] } });
  assert.deepEqual(result.downstream.headers, [
    [":status", "200"],
    ["hello", "there"],
    ["location", "envoy-wasm"],
    ["hello", "world!"],
  ]);
});

const expectedFormat = 'add_header: configuration must be {"name": "<header>", "value": "<value>"}';

for (const [label, config] of [
  ["not JSON", "name=x-wasm"],
  ["truncated JSON", '{"name": "x-wasm", "value": "yes"'],
  ["a JSON array", '["x-wasm", "yes"]'],
  ["missing value", '{"name": "x-wasm"}'],
  ["value not a string", '{"name": "x-wasm", "value": 3}'],
] as const) {
  test(`bad configuration (${label}): error log with the expected format, plugin start fails`, () => {
    // A healthy plugin in the same process collects the logs of the one that fails to start.
    const witness = createTestHost({ wasm });
    witness.logs.clear();
    assert.throws(
      () => createTestHost({ wasm, pluginConfig: config, shareProcessWith: witness }),
      (error: unknown) => error instanceof PluginStartError && error.stage === "configure",
    );
    assert.deepEqual(wasmMessages(witness, "error"), [expectedFormat]);
  });
}
