import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/metrics.wasm", import.meta.url);

const counterName = (value: string) => `custom_header_value_counts_value=${value}_reporter=proxywasmas`;

function request(host: TestHost, value?: string): void {
  const headers: [string, string][] = [[":method", "GET"], [":path", "/"], [":authority", "localhost"]];
  if (value !== undefined) headers.push(["my-custom-header", value]);
  const result = host.flow({ request: { headers } });
  // The filter only counts: every request reaches the upstream unchanged.
  assert.deepEqual(result.upstream.headers, headers);
  assert.equal(result.downstream.status, 200);
}

test("three requests with my-custom-header: foo count 3 on the foo counter", () => {
  const host = createTestHost({ wasm });
  for (let i = 0; i < 3; i++) request(host, "foo");
  assert.equal(host.metric(counterName("foo")), 3n);
  // Envoy's name for it, which the README's stats_tags turn into Prometheus labels.
  assert.equal(host.metric(`wasmcustom.${counterName("foo")}`), 3n);
  assert.equal(host.process.metrics.get(counterName("foo"))?.kind, "counter");
});

test("each header value gets its own counter: 3 x foo, 5 x bar (the end-to-end traffic)", () => {
  const host = createTestHost({ wasm });
  for (let i = 0; i < 3; i++) request(host, "foo");
  for (let i = 0; i < 5; i++) request(host, "bar");
  assert.equal(host.metric(counterName("foo")), 3n);
  assert.equal(host.metric(counterName("bar")), 5n);
  const names = host.process.metrics.all().map((m) => m.name).sort();
  assert.deepEqual(names, [`wasmcustom.${counterName("bar")}`, `wasmcustom.${counterName("foo")}`]);
});

test("requests without the header define and count nothing", () => {
  const host = createTestHost({ wasm });
  request(host);
  request(host);
  assert.deepEqual(host.process.metrics.all(), []);
  assert.equal(host.metric(counterName("")), undefined);
});

test("an empty header value is a value of its own", () => {
  const host = createTestHost({ wasm });
  request(host, "");
  assert.equal(host.metric(counterName("")), 1n);
});

test("no error or warning is logged while counting", () => {
  const host = createTestHost({ wasm });
  request(host, "foo");
  assert.deepEqual(host.logs.records.filter((r) => r.level === "error" || r.level === "warn" || r.level === "critical"), []);
});

test("memory stays flat over 2000 counted requests (the counter is defined once)", () => {
  const host = createTestHost({ wasm });
  const headers: [string, string][] = [[":method", "GET"], [":path", "/"], ["my-custom-header", "foo"]];
  host.leakCheck(2000, () => {
    host.flow({ request: { headers } });
  });
  assert.equal(host.metric(counterName("foo")), 2003n); // 3 warm-up requests + 2000
});
