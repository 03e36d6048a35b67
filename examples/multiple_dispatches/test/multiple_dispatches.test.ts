import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../build/multiple_dispatches.wasm", import.meta.url);
const REQUEST = { ":authority": "localhost:18000", ":path": "/", ":method": "GET" };

function pausedResponse() {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["httpbin"] });
  const stream = host.http();
  stream.requestHeaders(REQUEST, { endOfStream: true });
  const status = stream.responseHeaders({ ":status": "200", "content-length": "13" });
  return { host, stream, status };
}

test("multiple_dispatches: response headers dispatch 10 calls to httpbin and pause the response", () => {
  const { host, stream, status } = pausedResponse();
  assert.equal(status, "StopAllIterationAndWatermark", "Pause, as Envoy applies it by default");
  assert.equal(stream.downstream.headers, null);
  const calls = host.callouts.http;
  assert.equal(calls.length, 10);
  for (const call of calls) {
    assert.equal(call.cluster, "httpbin");
    assert.deepEqual(call.headers, [[":path", "/"], [":method", "GET"], [":authority", ""]]);
    assert.equal(call.body, "");
    assert.equal(call.timeoutMs, 50000);
  }
  assert.deepEqual(host.logs.messages, []);
});

test("multiple_dispatches: after the 10th answer the response resumes with total-dispatched: 10", () => {
  const { host, stream } = pausedResponse();
  const calls = host.callouts.pendingHttp;
  for (let i = 0; i < 9; i++) {
    calls[i].respond({ status: 200, body: "ok" });
    assert.equal(stream.downstream.headers, null, `still paused after ${i + 1} answers`);
  }
  calls[9].respond({ status: 503 });
  assert.deepEqual(host.logs.at("info"), [
    "pending dispatched requests: 9",
    "pending dispatched requests: 8",
    "pending dispatched requests: 7",
    "pending dispatched requests: 6",
    "pending dispatched requests: 5",
    "pending dispatched requests: 4",
    "pending dispatched requests: 3",
    "pending dispatched requests: 2",
    "pending dispatched requests: 1",
    "response resumed after processed 10 dispatched request",
  ]);
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["content-length", "13"], ["total-dispatched", "10"]]);
  assert.equal(stream.responseBody("example body\n", { endOfStream: true }), "Continue", "the stream action is Continue again");
  assert.equal(stream.downstream.body, "example body\n");
  stream.complete();
  assert.equal(host.vm.contexts.size, 1);
});

test("multiple_dispatches: answers in any order, failed ones included, count the same", () => {
  const { host, stream } = pausedResponse();
  const calls = host.callouts.pendingHttp.reverse();
  calls.forEach((call, i) => (i % 3 === 0 ? call.fail() : call.respond()));
  assert.ok(host.logs.contains("pending dispatched requests: 1"));
  assert.ok(host.logs.contains("response resumed after processed 10 dispatched request"));
  assert.equal(stream.downstream.header("total-dispatched"), "10");
});

test("multiple_dispatches: without the httpbin cluster nothing is dispatched and the response continues", () => {
  // Not strict: the refused call is the point of this case.
  const host = createTestHost({ wasm: WASM });
  const stream = host.http();
  stream.requestHeaders(REQUEST, { endOfStream: true });
  assert.equal(stream.responseHeaders({ ":status": "200" }, { endOfStream: true }), "Continue");
  assert.equal(host.logs.at("critical").length, 10);
  assert.equal(host.logs.at("critical")[0], "dispatch httpcall failed: 2");
  assert.deepEqual(stream.downstream.headers, [[":status", "200"]]);
});

test("multiple_dispatches: two streams keep separate counts", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["httpbin"] });
  const a = host.http();
  const b = host.http();
  a.requestHeaders(REQUEST, { endOfStream: true });
  b.requestHeaders(REQUEST, { endOfStream: true });
  a.responseHeaders({ ":status": "200" }, { endOfStream: true });
  b.responseHeaders({ ":status": "201" }, { endOfStream: true });
  const calls = host.callouts.pendingHttp;
  assert.equal(calls.length, 20);
  for (const call of calls.slice(10)) call.respond();
  assert.equal(a.downstream.headers, null);
  assert.deepEqual(b.downstream.headers, [[":status", "201"], ["total-dispatched", "10"]]);
  for (const call of calls.slice(0, 10)) call.respond();
  assert.deepEqual(a.downstream.headers, [[":status", "200"], ["total-dispatched", "10"]]);
});

test("multiple_dispatches: no memory or context leak over 50 streams of 10 callouts each", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["httpbin"], logLevel: "warn" });
  host.leakCheck(50, () => {
    const stream = host.http();
    stream.requestHeaders(REQUEST, { endOfStream: true });
    stream.responseHeaders({ ":status": "200" }, { endOfStream: true });
    for (const call of host.callouts.pendingHttp) call.respond();
    assert.equal(stream.downstream.header("total-dispatched"), "10");
    stream.complete();
  });
});
