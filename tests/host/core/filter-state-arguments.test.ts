// `set_envoy_filter_state` takes a serialized SetEnvoyFilterStateArguments { path = 1,
// value = 2, span = 3 }, which envoy source/extensions/common/wasm/foreign.cc parses. The host
// keeps what parses on the calling stream, where the dev proxy's tcp_proxy reads
// `envoy.tcp_proxy.cluster` (envoy docs/root/configuration/advanced/well_known_filter_state.rst).
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeFilterStateArguments } from "../../../src/host/foreign-functions";

const bytes = (...parts: (number | string)[]): Uint8Array =>
  new Uint8Array(parts.flatMap((part) => (typeof part === "number" ? [part] : [...Buffer.from(part)])));

test("path and value are read; the span (a varint) and unknown fields are skipped", () => {
  assert.deepEqual(decodeFilterStateArguments(bytes(0x0a, 3, "key", 0x12, 5, "value", 0x18, 2)), { path: "key", value: bytes("value") });
  // An unknown length-delimited field 9 and a fixed32 field 10 before the path.
  assert.deepEqual(decodeFilterStateArguments(bytes(0x4a, 1, "x", 0x55, 1, 2, 3, 4, 0x0a, 1, "p")), { path: "p", value: new Uint8Array(0) });
});

test("a value longer than 127 bytes (two-byte length) is read whole", () => {
  const value = "v".repeat(200);
  assert.deepEqual(decodeFilterStateArguments(bytes(0x0a, 1, "p", 0x12, 0xc8, 0x01, value)), { path: "p", value: bytes(value) });
});

test("bytes that do not parse, or carry no path, give null", () => {
  assert.equal(decodeFilterStateArguments(bytes("state-bytes")), null, "not protobuf (a group wire type)");
  assert.equal(decodeFilterStateArguments(bytes(0x0a, 10, "short")), null, "a length past the end");
  assert.equal(decodeFilterStateArguments(bytes(0x0a)), null, "a key without its length");
  assert.equal(decodeFilterStateArguments(bytes(0x12, 1, "v")), null, "no path");
  assert.equal(decodeFilterStateArguments(new Uint8Array(0)), null, "empty");
  assert.equal(decodeFilterStateArguments(bytes(0x18, 0x80)), null, "a truncated varint");
});
