import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { RUST_HTTP_BODY } from "./foreign-fixtures";

const REQUEST: [string, string][] = [
  [":method", "GET"],
  [":path", "/secret"],
  [":authority", "example.com"],
];
const SECRET = "This secret message should not be read by anyone.\n";

test("rust http_body: a body with 'secret' is replaced by the redaction note and content-length is dropped", () => {
  const host = createTestHost({ wasm: RUST_HTTP_BODY, strict: true });
  const result = host.flow({
    request: { headers: REQUEST },
    response: { headers: [[":status", "200"], ["content-length", "50"], ["content-type", "text/plain"]], body: SECRET },
  });
  assert.deepEqual(result.downstream.headers, [[":status", "200"], ["content-type", "text/plain"]]);
  assert.equal(result.downstream.body, "Original message body (50 bytes) redacted.\n");
  assert.equal(result.downstream.ended, true);
  assert.deepEqual(host.logs.messages, []);
  assert.equal(host.failure, null);
});

test("rust http_body: a body without 'secret' passes unchanged", () => {
  const host = createTestHost({ wasm: RUST_HTTP_BODY, strict: true });
  const result = host.flow({
    request: { headers: REQUEST },
    response: { headers: [[":status", "200"], ["content-length", "32"]], body: "Everyone may read this message.\n" },
  });
  assert.deepEqual(result.downstream.headers, [[":status", "200"]]);
  assert.equal(result.downstream.body, "Everyone may read this message.\n");
});

test("rust http_body: chunks are buffered until end of stream, so a word split across chunks is still found", () => {
  const host = createTestHost({ wasm: RUST_HTTP_BODY, strict: true });
  const stream = host.http();
  stream.requestHeaders(REQUEST, { endOfStream: true });
  assert.equal(stream.responseHeaders([[":status", "200"]]), "Continue");
  assert.equal(stream.responseBody("This sec"), "StopIterationAndBuffer");
  assert.equal(stream.downstream.body, "");
  assert.equal(stream.heldResponseBody, "This sec");
  assert.equal(stream.responseBody("ret message should not be read by anyone.\n", { endOfStream: true }), "Continue");
  assert.equal(stream.downstream.body, "Original message body (50 bytes) redacted.\n");
  assert.equal(stream.downstream.ended, true);
});

test("rust http_body: a 300 kB body makes std's allocator grow linear memory, and the host follows", () => {
  const host = createTestHost({ wasm: RUST_HTTP_BODY, strict: true });
  const before = host.vm.memoryBytes;
  assert.equal(before, 17 * 65536);
  const body = "x".repeat(150_000) + "secret" + "y".repeat(149_994);
  const result = host.flow({ request: { headers: REQUEST }, response: { headers: [[":status", "200"]], body } });
  assert.equal(result.downstream.body, "Original message body (300000 bytes) redacted.\n");
  assert.ok(host.vm.memoryBytes > before, `memory grew from ${before} to ${host.vm.memoryBytes}`);
  assert.equal(host.failure, null);
});
