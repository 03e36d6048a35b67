// The relay's wire format between the proxy's main thread and its filter workers: headers and
// stream info must cross unchanged, in order, duplicates and empty values included, and survive
// the structured clone postMessage applies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { flattenHeaders, flattenStreamInfo, unflattenHeaders, unflattenStreamInfo } from "../../src/proxy/workers/worker-protocol";

test("headers cross as a flat name/value list and come back identical", () => {
  const headers: [string, string][] = [[":method", "GET"], [":path", "/a?b=c"], ["x-dup", "1"], ["x-dup", "2"], ["empty", ""], ["utf8", "héllo ✓"]];
  const flat = flattenHeaders(headers);
  assert.deepEqual(flat, [":method", "GET", ":path", "/a?b=c", "x-dup", "1", "x-dup", "2", "empty", "", "utf8", "héllo ✓"]);
  assert.deepEqual(unflattenHeaders(structuredClone(flat)), headers);
});

test("no headers is an empty list both ways", () => {
  assert.deepEqual(flattenHeaders([]), []);
  assert.deepEqual(unflattenHeaders([]), []);
});

test("stream info crosses as a fixed tuple", () => {
  const info = { httpVersion: 2 as const, downstreamRemoteAddress: "127.0.0.1", downstreamRemotePort: 51234, downstreamLocalAddress: "127.0.0.1", downstreamLocalPort: 10000, routeClusterName: "upstream" };
  const flat = flattenStreamInfo(info);
  assert.deepEqual(flat, [2, "127.0.0.1", 51234, "127.0.0.1", 10000, "upstream", undefined, undefined]);
  assert.deepEqual(unflattenStreamInfo(structuredClone(flat)), info);
  // Dynamic metadata (from set_metadata before the Wasm filters) crosses as it is when the stream opens.
  const withMetadata = { ...info, dynamicMetadata: { "envoy.filters.http.lua": { key: "FOO" } } };
  assert.deepEqual(unflattenStreamInfo(structuredClone(flattenStreamInfo(withMetadata))), withMetadata);
});
