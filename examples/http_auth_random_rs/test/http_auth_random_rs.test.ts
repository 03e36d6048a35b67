import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../build/http_auth_random_rs.wasm", import.meta.url);
const REQUEST = { ":authority": "localhost:10000", ":path": "/", ":method": "GET" };

function pausedRequest() {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["httpbin"] });
  const stream = host.http();
  const status = stream.requestHeaders(REQUEST, { endOfStream: true });
  return { host, stream, status };
}

test("http_auth_random_rs: request headers dispatch GET /bytes/1 to httpbin (1 s) and pause", () => {
  const { host, stream, status } = pausedRequest();
  assert.equal(status, "StopAllIterationAndWatermark");
  assert.equal(stream.upstream.headers, null);
  const calls = host.callouts.http;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].cluster, "httpbin");
  assert.deepEqual(calls[0].headers, [[":method", "GET"], [":path", "/bytes/1"], [":authority", "httpbin.org"]]);
  assert.equal(calls[0].body, "");
  assert.deepEqual(calls[0].trailers, []);
  assert.equal(calls[0].timeoutMs, 1000);
});

test("http_auth_random_rs: an even first byte grants access; the response gets powered-by: proxy-wasm", () => {
  const { host, stream } = pausedRequest();
  host.callouts.pendingHttp[0].respond({ status: 200, body: new Uint8Array([0x42]) });
  assert.deepEqual(host.logs.at("info"), ["Access granted."]);
  assert.deepEqual(stream.upstream.headers, [[":authority", "localhost:10000"], [":path", "/"], [":method", "GET"]]);
  stream.responseHeaders({ ":status": "200", "powered-by": "upstream" }, { endOfStream: true });
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["powered-by", "proxy-wasm"]]);
});

test("http_auth_random_rs: an odd first byte forbids access with a local 403", () => {
  const { host, stream } = pausedRequest();
  host.callouts.pendingHttp[0].respond({ status: 200, body: new Uint8Array([0x43, 0x42]) });
  assert.deepEqual(host.logs.at("info"), ["Access forbidden."]);
  assert.deepEqual(stream.localResponse, {
    status: 403,
    details: "",
    body: "Access forbidden.\n",
    headers: [["powered-by", "proxy-wasm"]],
    grpcStatus: undefined,
  });
  assert.equal(stream.upstream.headers, null);
  assert.equal(stream.downstream.status, 403);
  assert.equal(stream.downstream.body, "Access forbidden.\n");
  assert.deepEqual(
    stream.downstream.headers?.filter(([k]) => k === "powered-by"),
    [["powered-by", "proxy-wasm"]],
    "the local reply passes the response-headers callback once, which replaces rather than duplicates",
  );
});

test("http_auth_random_rs: an empty body or a failed call is forbidden too", () => {
  const empty = pausedRequest();
  empty.host.callouts.pendingHttp[0].respond({ status: 200 });
  assert.equal(empty.stream.localResponse?.status, 403);

  const failed = pausedRequest();
  failed.host.callouts.pendingHttp[0].fail();
  assert.equal(failed.stream.localResponse?.status, 403);
  assert.deepEqual(failed.host.logs.at("info"), ["Access forbidden."]);
});

test("http_auth_random_rs: without an httpbin cluster every request is denied at once", () => {
  // Not strict: the refused call is the point of this case.
  const host = createTestHost({ wasm: WASM });
  const stream = host.http();
  assert.equal(stream.requestHeaders(REQUEST, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.deepEqual(host.logs.at("error"), ["dispatch to httpbin failed: 2"]);
  assert.equal(stream.localResponse?.status, 403);
  assert.equal(stream.localResponse?.body, "Access forbidden.\n");
});
