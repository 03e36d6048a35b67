import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";
import { PluginStartError } from "proxy-wasm-as";

const wasm = new URL("../build/json_validation.wasm", import.meta.url);

function messages(host: TestHost, level: string): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === level).map((r) => r.message);
}

const json = { ":method": "POST", ":path": "/", ":authority": "localhost", "content-type": "application/json" };

test("content-type text/html: local 403 `content-type must be provided`, request held", () => {
  const host = createTestHost({ wasm });
  const stream = host.http();
  assert.equal(stream.requestHeaders({ "content-type": "text/html" }), "StopAllIterationAndWatermark");
  assert.deepEqual(stream.localResponse, { status: 403, details: "", body: "content-type must be provided", headers: [], grpcStatus: undefined });
  assert.equal(stream.upstream.headers, null);
});

test("no content-type at all (GET without body): 403", () => {
  const host = createTestHost({ wasm });
  const { localResponse, downstream, upstream } = host.flow({ request: { headers: { ":method": "GET", ":path": "/" } } });
  assert.equal(localResponse?.status, 403);
  assert.equal(downstream.status, 403);
  assert.equal(downstream.body, "content-type must be provided");
  assert.equal(upstream.headers, null);
});

test("content-type application/json: Continue", () => {
  const host = createTestHost({ wasm });
  const stream = host.http();
  assert.equal(stream.requestHeaders({ "content-type": "application/json" }), "Continue");
  assert.equal(stream.localResponse, null);
});

test("content-type must match exactly (a charset parameter is rejected)", () => {
  const host = createTestHost({ wasm });
  const stream = host.http();
  stream.requestHeaders({ "content-type": "application/json; charset=utf-8" });
  assert.equal(stream.localResponse?.body, "content-type must be provided");
});

test("with requiredKeys [my_key]: invalid JSON is rejected with 403 `invalid payload` and an error log", () => {
  const host = createTestHost({ wasm, pluginConfig: { requiredKeys: ["my_key"] } });
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders(json);
  // A local response overrides the filter's return value with Envoy's stop for body callbacks.
  assert.equal(stream.requestBody("invalid_payload", { endOfStream: true }), "StopIterationNoBuffer");
  assert.deepEqual(stream.localResponse, { status: 403, details: "", body: "invalid payload", headers: [], grpcStatus: undefined });
  assert.equal(stream.upstream.body, "");
  assert.deepEqual(messages(host, "error"), ["body is not a valid json: invalid_payload"]);
});

test("with requiredKeys [my_key]: a body without the key is rejected", () => {
  const host = createTestHost({ wasm, pluginConfig: { requiredKeys: ["my_key"] } });
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders(json);
  assert.equal(stream.requestBody('{"unknown_key":"unknown_value"}', { endOfStream: true }), "StopIterationNoBuffer");
  assert.equal(stream.localResponse?.status, 403);
  assert.equal(stream.localResponse?.body, "invalid payload");
  assert.deepEqual(messages(host, "error"), ['required key (my_key) is missing: {"unknown_key":"unknown_value"}']);
});

test("with requiredKeys [my_key]: a body with the key goes upstream", () => {
  const host = createTestHost({ wasm, pluginConfig: { requiredKeys: ["my_key"] } });
  host.logs.clear();
  const { upstream, localResponse } = host.flow({ request: { headers: json, body: '{"my_key":"my_value"}' } });
  assert.equal(localResponse, null);
  assert.equal(upstream.body, '{"my_key":"my_value"}');
  assert.deepEqual(messages(host, "error"), []);
});

test("the body is validated once, whole, even when it arrives in chunks", () => {
  const host = createTestHost({ wasm, pluginConfig: { requiredKeys: ["id", "token"] } });
  const stream = host.http();
  stream.requestHeaders(json);
  assert.equal(stream.requestBody('{"id": 1, '), "StopIterationAndBuffer");
  assert.equal(stream.requestBody('"token": "abc"}', { endOfStream: true }), "Continue");
  assert.equal(stream.localResponse, null);
  assert.equal(stream.upstream.body, '{"id": 1, "token": "abc"}');
});

test("end-to-end: POST JSON with id and token -> 200 from upstream; GET without body -> 403", () => {
  const host = createTestHost({ wasm, pluginConfig: { requiredKeys: ["id", "token"] } });
  const accepted = host.flow({ request: { headers: json, body: '{"id": "xxx", "token": "xxx"}' }, response: { headers: { ":status": "200" } } });
  assert.equal(accepted.downstream.status, 200);
  const rejected = host.flow({ request: { headers: { ":method": "GET", ":path": "/" } } });
  assert.equal(rejected.downstream.status, 403);
});

test("without configuration any valid JSON body passes", () => {
  const host = createTestHost({ wasm });
  const { upstream, localResponse } = host.flow({ request: { headers: json, body: "[1, 2]" } });
  assert.equal(localResponse, null);
  assert.equal(upstream.body, "[1, 2]");
});

for (const [label, config, message] of [
  ["invalid JSON", "{requiredKeys", "unexpected character 'r' (1:2)"],
  ["a JSON array", "[]", "expected an object, got an array (1:1)"],
  ["requiredKeys not an array", '{"requiredKeys": "my_key"}', "requiredKeys: expected an array, got a string (1:18)"],
  ["a non-string key", '{"requiredKeys": ["my_key", 3]}', "requiredKeys[1]: expected a string, got a number (1:29)"],
  ["a misspelt field", '{\n  "requiredkeys": ["id"]\n}', "requiredkeys: unknown field (2:3)"],
] as const) {
  test(`configuration with ${label} fails the plugin start with a critical log naming the field`, () => {
    // A healthy plugin in the same process collects the logs of the one that fails to start.
    const witness = createTestHost({ wasm });
    witness.logs.clear();
    assert.throws(
      () => createTestHost({ wasm, pluginConfig: config, shareProcessWith: witness }),
      (error: unknown) => error instanceof PluginStartError && error.stage === "configure",
    );
    assert.deepEqual(witness.logs.records.filter((r) => r.source === "wasm" && r.level === "critical").map((r) => r.message), [`invalid configuration: ${message}`]);
  });
}

test("strict mode: 200 streams make no out-of-place hostcall, leave no context behind and do not grow memory", () => {
  const host = createTestHost({ wasm, strict: true, pluginConfig: { requiredKeys: ["id"] } });
  // leakCheck throws if a context survives its stream or memory grows by more than a page.
  host.leakCheck(200, () => {
    host.flow({
      request: { headers: { ":method": "POST", ":path": "/", ":authority": "my-host.com", "content-type": "application/json", "content-length": "9" }, body: '{"id": 1}' },
      response: { headers: { ":status": "200", "content-length": "3" }, body: "abc" },
    });
  });
  assert.equal(host.failure, null);
});
