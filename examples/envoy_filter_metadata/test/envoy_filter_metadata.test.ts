import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/envoy_filter_metadata.wasm", import.meta.url);

const request: [string, string][] = [[":method", "GET"], [":path", "/"], [":authority", "localhost"]];

/** The dynamic metadata the README's Lua filter writes: the upper-cased `x-custom-metadata` header. */
function luaMetadata(value: string | Uint8Array) {
  return { metadata: { filter_metadata: { "envoy.filters.http.lua": { "uppercased-custom-metadata": value } } } };
}

test("metadata present: local 200 with the metadata in a header and in the body, request paused", () => {
  const host = createTestHost({ wasm });
  const stream = host.http({ properties: luaMetadata("FOO") });
  assert.equal(stream.requestHeaders([...request, ["x-custom-metadata", "foo"]], { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.equal(stream.upstream.headers, null);
  assert.deepEqual(stream.localResponse, {
    status: 200,
    details: "",
    body: 'Custom response with Envoy metadata: "FOO"\n',
    // Envoy lower-cases the header names of a local reply.
    headers: [["powered-by", "proxy-wasm"], ["uppercased-metadata", "FOO"]],
    grpcStatus: undefined,
  });
  assert.equal(stream.downstream.status, 200);
  assert.equal(stream.downstream.body, 'Custom response with Envoy metadata: "FOO"\n');
  stream.complete();
});

test("no metadata: the request continues to the upstream untouched", () => {
  const host = createTestHost({ wasm });
  const result = host.flow({
    request: { headers: request },
    response: { headers: [[":status", "200"]], body: "Welcome, set the `x-custom-metadata` header to change the response!\n" },
  });
  assert.equal(result.localResponse, null);
  assert.deepEqual(result.upstream.headers, request);
  assert.equal(result.downstream.body, "Welcome, set the `x-custom-metadata` header to change the response!\n");
});

test("metadata of another filter namespace is not used", () => {
  const host = createTestHost({ wasm });
  const stream = host.http({
    properties: { metadata: { filter_metadata: { "envoy.filters.http.other": { "uppercased-custom-metadata": "FOO" } } } },
  });
  assert.equal(stream.requestHeaders(request, { endOfStream: true }), "Continue");
  assert.equal(stream.localResponse, null);
  stream.complete();
});

for (const [label, bytes] of [
  ["an invalid byte", [0x46, 0xff, 0x4f]],
  ["an overlong encoding", [0x46, 0xc0, 0x80]],
  ["a truncated sequence", [0x46, 0xe2, 0x82]],
  ["an encoded surrogate", [0xed, 0xa0, 0x80]],
  ["a code point past U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
] as const) {
  test(`metadata that is not UTF-8 (${label}): the request continues`, () => {
    const host = createTestHost({ wasm });
    const stream = host.http({ properties: luaMetadata(new Uint8Array(bytes)) });
    assert.equal(stream.requestHeaders(request, { endOfStream: true }), "Continue");
    assert.equal(stream.localResponse, null);
    assert.deepEqual(stream.upstream.headers, request);
    stream.complete();
  });
}

test("non-ASCII UTF-8 metadata is echoed byte for byte", () => {
  const host = createTestHost({ wasm });
  const stream = host.http({ properties: luaMetadata("ÜBER ✓") });
  stream.requestHeaders(request, { endOfStream: true });
  assert.equal(stream.localResponse?.body, 'Custom response with Envoy metadata: "ÜBER ✓"\n');
  assert.deepEqual(stream.localResponse?.headers, [["powered-by", "proxy-wasm"], ["uppercased-metadata", "ÜBER ✓"]]);
  stream.complete();
});

test("empty metadata value is valid UTF-8: answered with empty quotes", () => {
  const host = createTestHost({ wasm });
  const stream = host.http({ properties: luaMetadata("") });
  stream.requestHeaders(request, { endOfStream: true });
  assert.equal(stream.localResponse?.body, 'Custom response with Envoy metadata: ""\n');
  stream.complete();
});
