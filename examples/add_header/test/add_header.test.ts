import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";
import { PluginStartError, readConfigSchema } from "proxy-wasm-as";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

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

for (const [label, config, message] of [
  ["not JSON", "name=x-wasm", "unexpected character 'n' (1:1)"],
  ["truncated JSON", '{"name": "x-wasm", "value": "yes"', "unexpected end of JSON (1:34)"],
  ["a JSON array", '["x-wasm", "yes"]', "expected an object, got an array (1:1)"],
  ["value not a string", '{"name": "x-wasm", "value": 3}', "value: expected a string, got a number (1:29)"],
  ["an unknown field", '{"name": "x-wasm",\n "colour": "red"}', "colour: unknown field (2:2)"],
] as const) {
  test(`bad configuration (${label}): error log naming the field and position, plugin start fails`, () => {
    // A healthy plugin in the same process collects the logs of the one that fails to start.
    const witness = createTestHost({ wasm });
    witness.logs.clear();
    assert.throws(
      () => createTestHost({ wasm, pluginConfig: config, shareProcessWith: witness }),
      (error: unknown) => error instanceof PluginStartError && error.stage === "configure",
    );
    assert.deepEqual(wasmMessages(witness, "error"), [message]);
  });
}

test("name and value are optional: a name alone adds the header with an empty value", () => {
  const host = createTestHost({ wasm, pluginConfig: { name: "x-flag" } });
  const result = host.flow({ request, response: { headers: [[":status", "200"]] } });
  assert.deepEqual(result.downstream.headers, [[":status", "200"], ["x-flag", ""], ["location", "envoy-wasm"], ["hello", "world!"]]);
});

test("the build wrote the configuration's schema beside the module (to stay within 8 KiB) and its TypeScript type", () => {
  // asconfig.json asks for the file (PROXY_WASM_AS_CONFIG_SCHEMA_FILE): the module has no schema
  // section, and every tool reads build/add_header.schema.json beside it.
  assert.equal(readConfigSchema(readFileSync(wasm)), null);
  const schema = readConfigSchema(readFileSync(wasm), fileURLToPath(wasm));
  assert.deepEqual(schema, {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "AddHeaderConfig",
    description: "The header add_header adds to every response.",
    type: "object",
    properties: {
      name: { description: "Name of the header to add to every response; none is added when empty.", type: "string", default: "" },
      value: { description: "Its value.", type: "string", default: "" },
    },
    additionalProperties: false,
  });
  const types = readFileSync(new URL("../build/add_header.config.d.ts", import.meta.url), "utf8");
  assert.match(types, /\nexport interface AddHeaderConfig \{\n/);
  assert.match(types, /\n {2}name\?: string;\n/);
});
