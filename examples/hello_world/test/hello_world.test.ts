import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/hello_world.wasm", import.meta.url);

function info(host: TestHost): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === "info").map((r) => r.message);
}

test("VM start logs `Hello, World!`", () => {
  const host = createTestHost({ wasm });
  assert.deepEqual(info(host), ["Hello, World!"]);
});

test("with the fake clock at 0 the tick logs the epoch, with no lucky number", () => {
  // The first tick comes 5 s after start: starting the clock 5 s before the epoch makes the
  // filter read exactly 0 at that tick.
  const host = createTestHost({ wasm, clockStartMs: -5000 });
  host.logs.clear();
  host.advanceTime(4999);
  assert.deepEqual(info(host), []);
  host.advanceTime(1);
  assert.deepEqual(info(host), ["It's 1970-01-01 00:00:00 UTC, there is no lucky number."]);
});

test("the tick repeats every 5 s and prints the date in UTC", () => {
  const host = createTestHost({ wasm, clockStartMs: Date.UTC(2024, 1, 29, 23, 59, 50) });
  host.logs.clear();
  host.advanceTime(15000);
  assert.deepEqual(info(host), [
    "It's 2024-02-29 23:59:55 UTC, there is no lucky number.",
    "It's 2024-03-01 00:00:00 UTC, there is no lucky number.",
    "It's 2024-03-01 00:00:05 UTC, there is no lucky number.",
  ]);
});

for (const [label, ms, expected] of [
  ["milliseconds", Date.UTC(1999, 11, 31, 23, 59, 54, 250), "1999-12-31 23:59:59.250"],
  ["a date before a century leap rule", Date.UTC(2100, 1, 28, 23, 59, 55), "2100-03-01 00:00:00"],
  ["a far date", Date.UTC(2400, 1, 28, 23, 59, 55), "2400-02-29 00:00:00"],
] as const) {
  test(`the datetime is exact for ${label}`, () => {
    const host = createTestHost({ wasm, clockStartMs: ms });
    host.logs.clear();
    host.advanceTime(5000);
    assert.deepEqual(info(host), [`It's ${expected} UTC, there is no lucky number.`]);
  });
}

test("sub-millisecond fractions print 6 or 9 digits, the fewest that are exact", () => {
  // The fake clock has millisecond steps, so this drives the formatter through a fractional start.
  const micros = createTestHost({ wasm, clockStartMs: 0.5 - 5000 });
  micros.logs.clear();
  micros.advanceTime(5000);
  assert.deepEqual(info(micros), ["It's 1970-01-01 00:00:00.000500 UTC, there is no lucky number."]);
  const nanos = createTestHost({ wasm, clockStartMs: 0.000007 - 5000 });
  nanos.logs.clear();
  nanos.advanceTime(5000);
  assert.deepEqual(info(nanos), ["It's 1970-01-01 00:00:00.000000007 UTC, there is no lucky number."]);
});

test("HTTP streams pass through untouched", () => {
  const host = createTestHost({ wasm });
  const { upstream, downstream } = host.flow({ request: { headers: { ":path": "/" } }, response: { headers: { ":status": "204" } } });
  assert.deepEqual(upstream.headers, [[":path", "/"]]);
  assert.equal(downstream.status, 204);
});

test("strict mode: 200 streams make no out-of-place hostcall, leave no context behind and do not grow memory", () => {
  const host = createTestHost({ wasm, strict: true });
  // leakCheck throws if a context survives its stream or memory grows by more than a page.
  host.leakCheck(200, () => {
    host.flow({
      request: { headers: { ":method": "POST", ":path": "/", ":authority": "my-host.com", "content-type": "application/json", "content-length": "9" }, body: '{"id": 1}' },
      response: { headers: { ":status": "200", "content-length": "3" }, body: "abc" },
    });
  });
  assert.equal(host.failure, null);
});
