import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../build/postpone_requests.wasm", import.meta.url);
const REQUEST = { ":authority": "localhost:18000", ":path": "/", ":method": "GET" };

test("postpone_requests: a request is paused until the next tick, then resumed", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const stream = host.http();
  assert.equal(stream.requestHeaders(REQUEST, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.equal(stream.contextId, 2);
  assert.deepEqual(host.logs.at("info"), ["postpone request with contextID=2"]);
  assert.equal(stream.upstream.headers, null);

  host.advanceTime(999);
  assert.equal(stream.upstream.headers, null, "no tick before 1000 ms");
  host.advanceTime(1);
  assert.deepEqual(host.logs.at("info"), ["postpone request with contextID=2", "resume request with contextID=2"]);
  assert.deepEqual(stream.upstream.headers, [[":authority", "localhost:18000"], [":path", "/"], [":method", "GET"]]);
  assert.equal(stream.upstream.ended, true);

  assert.equal(stream.responseHeaders({ ":status": "200" }, { endOfStream: true }), "Continue", "the stream action is Continue");
  assert.equal(stream.downstream.status, 200);
  stream.complete();
  assert.equal(host.failure, null);
});

test("postpone_requests: every request waiting at a tick is resumed once, later ones wait for the next tick", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const first = host.http();
  const second = host.http();
  first.requestHeaders(REQUEST, { endOfStream: true });
  second.requestHeaders(REQUEST, { endOfStream: true });
  host.advanceTime(1000);
  assert.notEqual(first.upstream.headers, null);
  assert.notEqual(second.upstream.headers, null);

  const third = host.http();
  third.requestHeaders(REQUEST, { endOfStream: true });
  assert.equal(third.contextId, 4);
  host.advanceTime(1000);
  assert.notEqual(third.upstream.headers, null);
  assert.deepEqual(host.logs.at("info"), [
    "postpone request with contextID=2",
    "postpone request with contextID=3",
    "resume request with contextID=2",
    "resume request with contextID=3",
    "postpone request with contextID=4",
    "resume request with contextID=4",
  ]);
});

test("postpone_requests: the request body waits with the headers and follows them", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const stream = host.http();
  stream.requestHeaders({ ...REQUEST, ":method": "POST" });
  stream.requestBody("payload", { endOfStream: true });
  assert.equal(stream.upstream.headers, null);
  host.advanceTime(1000);
  assert.equal(stream.upstream.body, "payload");
  assert.equal(stream.upstream.ended, true);
});

test("postpone_requests: a stream that ended before the tick is skipped without error", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const gone = host.http();
  gone.requestHeaders(REQUEST, { endOfStream: true });
  gone.complete();
  host.advanceTime(1000);
  assert.deepEqual(host.logs.at("info"), ["postpone request with contextID=2", "resume request with contextID=2"]);
  assert.equal(host.failure, null);
  assert.equal(host.vm.contexts.size, 1);
});

test("postpone_requests: no memory or context leak over 100 postponed requests", () => {
  const host = createTestHost({ strict: true, wasm: WASM, logLevel: "warn" });
  host.leakCheck(100, () => {
    const stream = host.http();
    stream.requestHeaders(REQUEST, { endOfStream: true });
    host.advanceTime(1000);
    stream.responseHeaders({ ":status": "200" }, { endOfStream: true });
    stream.complete();
  });
});
