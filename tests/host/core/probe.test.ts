import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { fixture } from "./wat";

const PROBE = fixture("probe.wat");

function probeHost() {
  return createTestHost({ wasm: PROBE, clusters: ["cluster"], pluginName: "probe" });
}

test("§4.3/§4.4: root context 1 is created, started and configured; the first stream is 2", () => {
  const host = probeHost();
  assert.deepEqual(host.logs.lines, ["wasm log: create=1", "wasm log: vm_start", "wasm log: tick_period=0", "wasm log: configure=1"]);
  assert.equal(host.rootContextId, 1);
});

test("§4.11/§5.5: header map codes in on_request_headers", () => {
  const host = probeHost();
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders([[":path", "/"], [":method", "GET"], [":authority", "h"], ["x-a", "one"]]), "StopAllIterationAndWatermark");
  assert.deepEqual(host.logs.messages.slice(0, 13), [
    "create=2",
    "req_headers=4",
    "get_req=0",
    "one",
    "get_missing=1",
    "get_resp_in_req=2",
    "size_resp_in_req=2",
    "get_bad_type=2",
    "get_bad_pointer=6",
    "add=0",
    "continue_upstream=12",
    "continue_bad=2",
    "call_unknown=2",
  ]);
  assert.equal(host.logs.lines[1], "wasm log probe: req_headers=4");
  assert.deepEqual(host.logs.messages.slice(13), ["call=0", "token=4"]);
  assert.equal(stream.upstream.headers, null, "paused headers are not forwarded");
  assert.deepEqual(stream.requestHeadersNow?.at(-1), ["x-added", "yes"]);
});

test("§4.8/§4.9/§5.4/§5.8: callout response resumes the stream through the effective context; buffered body is cumulative", () => {
  const host = probeHost();
  const stream = host.http();
  stream.requestHeaders([[":path", "/"], [":method", "GET"], [":authority", "h"], ["x-a", "one"]]);
  assert.equal(stream.requestBody("hello"), "StopAllIterationAndWatermark");
  assert.equal(stream.requestBody(" world", { endOfStream: true }), "StopAllIterationAndWatermark");
  const [callout] = host.callouts.pendingHttp;
  assert.equal(callout.cluster, "cluster");
  assert.deepEqual(callout.headers, [[":path", "/check"], [":method", "GET"], [":authority", "auth"]]);
  host.logs.clear();
  callout.respond({ body: "ok" });
  assert.deepEqual(host.logs.lines, [
    "wasm log: callout_token=4",
    "wasm log: callout_headers=1",
    "wasm log: callout_body=2",
    "wasm log: status=0",
    "wasm log: ",
    "wasm log: effective_bad=2",
    "wasm log probe: effective=0",
    "wasm log probe: req_body=11",
    "wasm log probe: read=0",
    "wasm log probe: llo world",
    "wasm log probe: write_middle=2",
    "wasm log probe: append=0",
  ]);
  assert.equal(stream.upstream.body, "hello world!");
  assert.equal(stream.upstream.ended, true);
  assert.deepEqual(stream.upstream.headers?.at(-1), ["x-added", "yes"]);
});

test("§5.8: a failed callout is delivered as 0/0/0 with status 11 \"reset\"", () => {
  const host = probeHost();
  host.http().requestHeaders([[":path", "/"], [":method", "GET"], [":authority", "h"]]);
  host.logs.clear();
  host.callouts.pendingHttp[0].fail();
  assert.deepEqual(host.logs.messages.slice(0, 5), ["callout_token=4", "callout_headers=0", "callout_body=0", "status=11", "reset"]);
});

test("§4.5/§4.11/§5.7: response callbacks, local reply override, then log, done, delete", () => {
  const host = probeHost();
  const stream = host.http();
  stream.requestHeaders([[":path", "/"], [":method", "GET"], [":authority", "h"], ["x-a", "one"]], { endOfStream: true });
  host.callouts.pendingHttp[0].respond();
  host.logs.clear();
  assert.equal(stream.responseHeaders({ ":status": "200" }, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.deepEqual(stream.localResponse, { status: 418, details: "short_and_stout", body: "teapot", headers: [], grpcStatus: undefined });
  assert.deepEqual(stream.downstream.headers, [[":status", "418"], ["content-length", "6"], ["content-type", "text/plain"]]);
  assert.equal(stream.downstream.body, "teapot");
  stream.complete();
  assert.deepEqual(host.logs.messages, [
    "resp_headers=1",
    "get_req_in_resp=2",
    "pairs_req_in_resp=0",
    "pairs_size=0",
    "local_reply=0",
    "log=2",
    "log_get_req=0",
    "log_add_resp=2",
    "done=2",
    "delete=2",
  ]);
  assert.equal(host.vm.contexts.size, 1);
});

test("§5.3: the tick timer re-arms after each tick on the fake clock", () => {
  const host = probeHost();
  host.logs.clear();
  host.advanceTime(99);
  assert.deepEqual(host.logs.messages, []);
  host.advanceTime(151);
  assert.deepEqual(host.logs.messages, ["tick", "tick"]);
});

test("§4.2: malloc is preferred over proxy_on_memory_allocate (which returns 0 here)", () => {
  const host = probeHost();
  host.http().requestHeaders([["x-a", "value"]]);
  assert.ok(host.logs.contains("get_req=0"));
  assert.ok(host.logs.contains("value"));
});
