// The test kit's callout recorder keeps what a test needs (every callout in flight, the recent
// answered ones) and no more: a host that plays many requests with a callout each must not keep
// every callout forever, or each later request pays for scanning them all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HeaderMap, type HttpCallout } from "../../src/host";
import { CalloutRecorder, createTestHost } from "../../src/testing";
import { RUST_HTTP_AUTH_RANDOM } from "../host/foreign/foreign-fixtures";

/** A callout as the host makes one, settled by `respond`/`fail`. */
function fakeCallout(token: number): HttpCallout {
  let settled = false;
  return {
    kind: "http", token, cluster: "auth", headers: new HeaderMap(), body: new Uint8Array(), trailers: new HeaderMap(), timeoutMs: 0,
    respond: () => { settled = true; },
    fail: () => { settled = true; },
    get settled() { return settled; },
  };
}

const tokens = (callouts: { token: number }[]) => callouts.map((c) => c.token);

test("callout recorder: of 20,000 answered callouts it keeps the newest (at most keepSettled + max(keepSettled, 16)), and every unanswered one", () => {
  const recorder = new CalloutRecorder({ keepSettled: 3 });
  const unanswered = [1, 2, 5_000];
  for (let token = 1; token <= 20_000; token++) {
    const callout = fakeCallout(token);
    recorder.dispatch(callout);
    if (!unanswered.includes(token)) callout.respond({ headers: new HeaderMap(), body: new Uint8Array(), trailers: new HeaderMap() });
    assert.ok(recorder.all.length <= unanswered.length + 3 + 16, `${recorder.all.length} callouts kept after ${token}`);
  }
  const all = tokens(recorder.all);
  assert.deepEqual(all.filter((t) => unanswered.includes(t)), unanswered, "unanswered callouts are never dropped");
  assert.deepEqual(all.slice(-3), [19_998, 19_999, 20_000], "the newest answered callouts are kept");
  assert.deepEqual(all, [...all].sort((a, b) => a - b), "oldest first");
  assert.deepEqual(tokens(recorder.pendingHttp), unanswered);
  assert.deepEqual(tokens(recorder.http), all);
});

test("callout recorder: keeps 16 answered callouts by default; keepSettled 0 keeps only those in flight", () => {
  const byDefault = new CalloutRecorder();
  assert.equal(byDefault.keepSettled, 16);
  for (let token = 1; token <= 5_000; token++) {
    const callout = fakeCallout(token);
    byDefault.dispatch(callout);
    callout.fail();
  }
  assert.ok(byDefault.all.length >= 16 && byDefault.all.length <= 32, `${byDefault.all.length}`);
  assert.equal(byDefault.all.at(-1)!.token, 5_000);

  const none = new CalloutRecorder({ keepSettled: 0 });
  for (let token = 1; token <= 100; token++) {
    const callout = fakeCallout(token);
    none.dispatch(callout);
    if (token !== 50) callout.fail();
  }
  assert.ok(none.all.length <= 1 + 16);
  assert.deepEqual(tokens(none.pendingHttp), [50]);
});

test("callout recorder: a test that never reads pendingHttp still keeps only what is in flight and the newest answered", () => {
  const recorder = new CalloutRecorder({ keepSettled: 0 });
  const callouts = [];
  for (let token = 1; token <= 10_000; token++) {
    const callout = fakeCallout(token);
    callouts.push(callout);
    recorder.dispatch(callout);
    callout.fail();
  }
  // What it holds besides `all`: whatever still references the 10,000 answered callouts.
  const held = Object.values(recorder).filter(Array.isArray).reduce((sum, list) => sum + list.length, 0);
  assert.ok(held <= 2 * 16, `${held} callouts held`);
});

test("callout recorder: a keepSettled that is not a whole number >= 0 is refused", () => {
  for (const keepSettled of [-1, 1.5, Number.NaN]) {
    assert.throws(() => new CalloutRecorder({ keepSettled }), /keepSettled must be a whole number >= 0/);
  }
});

test("test host: keepSettledCallouts bounds host.callouts over 2,000 requests with a callout each", () => {
  const host = createTestHost({ wasm: RUST_HTTP_AUTH_RANDOM, clusters: ["httpbin"], logLevel: "warn", keepSettledCallouts: 5 });
  assert.equal(host.callouts.keepSettled, 5);
  for (let i = 0; i < 2_000; i++) {
    const stream = host.http();
    stream.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "example.com"]], { endOfStream: true });
    const pending = host.callouts.pendingHttp;
    assert.equal(pending.length, 1);
    pending[0].respond({ status: 200, body: new Uint8Array([0x42]) });
    stream.complete();
  }
  assert.deepEqual(host.callouts.pendingHttp, []);
  assert.ok(host.callouts.all.length >= 5 && host.callouts.all.length <= 5 + 16, `${host.callouts.all.length} callouts kept`);
  assert.equal(host.callouts.http.at(-1)!.token, 4 * 2_000, "the newest callout is kept (Envoy's tokens count up by 4)");
});
