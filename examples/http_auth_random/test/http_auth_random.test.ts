import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../build/http_auth_random.wasm", import.meta.url);
const REQUEST: [string, string][] = [[":authority", "localhost:18000"], [":path", "/uuid"], [":method", "GET"], ["x-custom", "1"]];
const GRANTED_BODY = '{"uuid": "7b10a67a-1c67-4199-835b-cbefcd4a63d4"}';
const FORBIDDEN_BODY = '{"uuid": "aaaaaaaa-1c67-4199-835b-cbefcd4a63d4"}';

/** The reference FNV-1a 32, to pin the test vectors of example-suite.md independently of the filter. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

function startStream() {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["httpbin"] });
  const stream = host.http();
  const status = stream.requestHeaders(REQUEST, { endOfStream: true });
  return { host, stream, status };
}

test("http_auth_random: the test vectors hash as documented", () => {
  assert.equal(fnv1a32(GRANTED_BODY), 0x22ad36f4);
  assert.equal(fnv1a32(FORBIDDEN_BODY), 0xaaed6197);
});

test("http_auth_random: request headers are logged and sent unchanged to httpbin; the request pauses", () => {
  const { host, stream, status } = startStream();
  assert.equal(status, "StopAllIterationAndWatermark", "Pause (StopIteration), as Envoy applies it by default");
  assert.equal(stream.upstream.headers, null, "held until the callout answers");
  assert.equal(host.callouts.http.length, 1);
  const [callout] = host.callouts.http;
  assert.equal(callout.cluster, "httpbin");
  assert.deepEqual(callout.headers, REQUEST);
  assert.equal(callout.body, "");
  assert.deepEqual(callout.trailers, []);
  assert.equal(callout.timeoutMs, 50000);
  assert.deepEqual(host.logs.at("info"), [
    "request header: :authority: localhost:18000",
    "request header: :path: /uuid",
    "request header: :method: GET",
    "request header: x-custom: 1",
    "http call dispatched to httpbin",
  ]);
});

test("http_auth_random: an even hash grants access and resumes the request", () => {
  const { host, stream } = startStream();
  host.logs.clear();
  host.callouts.pendingHttp[0].respond({ headers: [[":status", "200"], ["content-type", "application/json"]], body: GRANTED_BODY });
  assert.deepEqual(host.logs.at("info"), [
    "response header from httpbin: :status: 200",
    "response header from httpbin: content-type: application/json",
    "access granted",
  ]);
  assert.equal(stream.localResponse, null);
  assert.deepEqual(stream.upstream.headers, REQUEST, "the original request reaches the upstream");
  assert.equal(stream.upstream.ended, true);
  stream.responseHeaders({ ":status": "200" }, { endOfStream: true });
  assert.equal(stream.downstream.status, 200);
  stream.complete();
  assert.equal(host.vm.contexts.size, 1);
  assert.equal(host.failure, null);
});

test("http_auth_random: an odd hash forbids access with a local 403 and exactly one header", () => {
  const { host, stream } = startStream();
  host.callouts.pendingHttp[0].respond({ headers: [[":status", "200"]], body: FORBIDDEN_BODY });
  assert.ok(host.logs.contains("access forbidden", "info"));
  assert.ok(!host.logs.contains("access granted"));
  assert.deepEqual(stream.localResponse, {
    status: 403,
    details: "",
    body: "access forbidden",
    headers: [["powered-by", "proxy-wasm-as!!"]],
    grpcStatus: undefined,
  });
  assert.equal(stream.upstream.headers, null, "the request never reaches the upstream");
  assert.equal(stream.downstream.status, 403);
  assert.equal(stream.downstream.body, "access forbidden");
});

test("http_auth_random: an unknown cluster makes the call fail; the request passes unchecked", () => {
  // Not strict: the refused call is the point of this case.
  const host = createTestHost({ wasm: WASM, clusters: [] });
  const stream = host.http();
  assert.equal(stream.requestHeaders(REQUEST, { endOfStream: true }), "Continue");
  assert.deepEqual(host.logs.at("critical"), ["dispatch httpcall failed: 2"], "2 = BadArgument");
  assert.equal(host.callouts.all.length, 0);
  assert.deepEqual(stream.upstream.headers, REQUEST);
});

test("http_auth_random: a request without :path cannot be dispatched (Envoy: BadArgument)", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["httpbin"] });
  const stream = host.http();
  assert.equal(stream.requestHeaders([[":method", "GET"], [":authority", "a"]], { endOfStream: true }), "Continue");
  assert.deepEqual(host.logs.at("critical"), ["dispatch httpcall failed: 2"]);
});

test("http_auth_random: a failed callout (reset) is treated as forbidden", () => {
  const { host, stream } = startStream();
  host.callouts.pendingHttp[0].fail();
  assert.deepEqual(host.logs.at("critical"), ["http call to httpbin failed"]);
  assert.equal(stream.localResponse?.status, 403);
  assert.equal(stream.upstream.headers, null);
});

test("http_auth_random: an answer arriving after the client went away is dropped", () => {
  const { host, stream } = startStream();
  const [callout] = host.callouts.pendingHttp;
  stream.complete();
  host.logs.clear();
  callout.respond({ body: GRANTED_BODY });
  assert.deepEqual(host.logs.messages, []);
  assert.equal(host.failure, null);
});

test("http_auth_random: end-to-end row: repeated GET /uuid sees both decisions and httpbin's :status line", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["httpbin"] });
  const outcomes: (number | undefined)[] = [];
  for (const body of [GRANTED_BODY, FORBIDDEN_BODY, GRANTED_BODY]) {
    const stream = host.http();
    stream.requestHeaders(REQUEST, { endOfStream: true });
    host.callouts.pendingHttp[0].respond({ headers: [[":status", "200"]], body });
    if (stream.localResponse === null) stream.responseHeaders({ ":status": "200" }, { endOfStream: true });
    outcomes.push(stream.downstream.status);
    stream.complete();
  }
  assert.deepEqual(outcomes, [200, 403, 200]);
  assert.ok(host.logs.contains("access granted"));
  assert.ok(host.logs.contains("access forbidden"));
  assert.ok(host.logs.contains("response header from httpbin: :status: 200"));
  assert.equal(host.vm.contexts.size, 1, "no stream context left behind");
});

test("http_auth_random: no memory or context leak over 100 authorized requests", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["httpbin"], logLevel: "warn" });
  host.leakCheck(100, () => {
    const stream = host.http();
    stream.requestHeaders(REQUEST, { endOfStream: true });
    host.callouts.pendingHttp[0].respond({ body: GRANTED_BODY });
    stream.responseHeaders({ ":status": "200" }, { endOfStream: true });
    stream.complete();
  });
});
