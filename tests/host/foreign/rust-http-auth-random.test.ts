import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "../../../src/testing";
import { RUST_HTTP_AUTH_RANDOM } from "./foreign-fixtures";

const REQUEST: [string, string][] = [
  [":method", "GET"],
  [":path", "/uuid"],
  [":authority", "example.com"],
];

function authHost(): TestHost {
  const host = createTestHost({ wasm: RUST_HTTP_AUTH_RANDOM, clusters: ["httpbin"], strict: true });
  host.logs.clear(); // drop the `_initialize` trace line
  return host;
}

test("rust http_auth_random: request headers pause the stream on a callout to httpbin for /bytes/1", () => {
  const host = authHost();
  const stream = host.http();
  assert.equal(stream.requestHeaders(REQUEST, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.equal(stream.upstream.headers, null);
  const [callout, ...others] = host.callouts.pendingHttp;
  assert.deepEqual(others, []);
  assert.equal(callout!.cluster, "httpbin");
  assert.deepEqual(callout!.headers, [[":method", "GET"], [":path", "/bytes/1"], [":authority", "httpbin.org"]]);
  assert.equal(callout!.body, "");
  assert.deepEqual(callout!.trailers, []);
  assert.equal(callout!.timeoutMs, 1000);
  assert.equal(callout!.token, 4, "Envoy's first HTTP callout token");
  assert.deepEqual(host.logs.messages, []);
});

test("rust http_auth_random: an even first byte grants access, resumes the request, and the response gets Powered-By", () => {
  const host = authHost();
  const stream = host.http();
  stream.requestHeaders(REQUEST, { endOfStream: true });
  host.callouts.pendingHttp[0]!.respond({ status: 200, headers: [["content-type", "application/octet-stream"]], body: new Uint8Array([0x42]) });
  assert.deepEqual(host.logs.records.map((r) => [r.level, r.message]), [["info", "Access granted."]]);
  assert.deepEqual(stream.upstream.headers, REQUEST);
  assert.equal(stream.localResponse, null);
  assert.equal(stream.responseHeaders([[":status", "200"], ["powered-by", "upstream"], ["server", "envoy"]], { endOfStream: true }), "Continue");
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["powered-by", "proxy-wasm"], ["server", "envoy"]]);
  stream.complete();
  assert.equal(host.failure, null);
});

test("rust http_auth_random: an odd first byte gets a local 403 with Powered-By and 'Access forbidden.'", () => {
  const host = authHost();
  const stream = host.http();
  stream.requestHeaders(REQUEST, { endOfStream: true });
  host.callouts.pendingHttp[0]!.respond({ body: new Uint8Array([0x01, 0x02]) });
  assert.deepEqual(host.logs.messages, ["Access forbidden."]);
  assert.equal(stream.upstream.headers, null);
  assert.deepEqual(stream.localResponse, {
    status: 403,
    details: "",
    body: "Access forbidden.\n",
    headers: [["powered-by", "proxy-wasm"]],
    grpcStatus: undefined,
  });
  assert.deepEqual(stream.downstream.headers, [
    [":status", "403"],
    ["powered-by", "proxy-wasm"],
    ["content-length", "18"],
    ["content-type", "text/plain"],
  ]);
  assert.equal(stream.downstream.body, "Access forbidden.\n");
});

test("rust http_auth_random: an empty callout body and a failed callout are both forbidden", () => {
  for (const answer of ["empty", "fail"] as const) {
    const host = authHost();
    const stream = host.http();
    stream.requestHeaders(REQUEST, { endOfStream: true });
    const callout = host.callouts.pendingHttp[0]!;
    if (answer === "empty") callout.respond({ status: 200 });
    else callout.fail();
    assert.deepEqual(host.logs.messages, ["Access forbidden."], answer);
    assert.equal(stream.localResponse?.status, 403, answer);
    assert.equal(host.failure, null, answer);
  }
});

test("rust http_auth_random: answers out of order reach the right streams (token -> context via set_effective_context)", () => {
  const host = authHost();
  const first = host.http();
  const second = host.http();
  first.requestHeaders(REQUEST, { endOfStream: true });
  second.requestHeaders(REQUEST, { endOfStream: true });
  assert.deepEqual([first.contextId, second.contextId], [2, 3]);
  const [firstCall, secondCall] = host.callouts.pendingHttp;
  assert.deepEqual([firstCall!.token, secondCall!.token], [4, 8]);
  secondCall!.respond({ body: new Uint8Array([0]) });
  firstCall!.respond({ body: new Uint8Array([255]) });
  assert.deepEqual(host.logs.messages, ["Access granted.", "Access forbidden."]);
  assert.deepEqual(second.upstream.headers, REQUEST);
  assert.equal(second.localResponse, null);
  assert.equal(first.upstream.headers, null);
  assert.equal(first.localResponse?.status, 403);
});

test("rust http_auth_random: an unknown cluster makes proxy_http_call return BadArgument (2) and the request continues", () => {
  const host = createTestHost({ wasm: RUST_HTTP_AUTH_RANDOM });
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders(REQUEST, { endOfStream: true }), "Continue");
  assert.deepEqual(host.logs.records.map((r) => [r.level, r.message]), [["error", "http_auth_random: proxy_http_call failed with status 2"]]);
  assert.deepEqual(host.callouts.all, []);
  assert.deepEqual(stream.upstream.headers, REQUEST);
});
