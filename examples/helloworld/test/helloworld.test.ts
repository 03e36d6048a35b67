import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/helloworld.wasm", import.meta.url);

function info(host: TestHost): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === "info").map((r) => r.message);
}

// SplitMix64's output function, written out independently of the filter.
function expectedRandom(nanos: bigint): bigint {
  const mask = (1n << 64n) - 1n;
  let z = (nanos + 0x9e3779b97f4a7c15n) & mask;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
  return z ^ (z >> 31n);
}

test("plugin start logs the greeting, on the root context", () => {
  const host = createTestHost({ wasm });
  assert.deepEqual(info(host), ["OnPluginStart from AssemblyScript!"]);
  assert.equal(host.logs.records.find((r) => r.source === "wasm")?.contextId, 1);
});

test("the tick period is 1000 ms: nothing at 999 ms, one tick at 1000 ms", () => {
  const host = createTestHost({ wasm });
  host.logs.clear();
  host.advanceTime(999);
  assert.deepEqual(info(host), []);
  host.advanceTime(1);
  const nanos = BigInt(Date.UTC(2024, 0, 1) + 1000) * 1_000_000n;
  assert.deepEqual(info(host), [`It's ${nanos}: random value: ${expectedRandom(nanos)}`, "OnTick called"]);
});

test("every tick logs the time and a new random value", () => {
  const host = createTestHost({ wasm, clockStartMs: 0 });
  host.logs.clear();
  host.advanceTime(3000);
  const lines = info(host);
  assert.deepEqual(lines.filter((line) => line === "OnTick called").length, 3);
  assert.deepEqual(lines.filter((line) => line.startsWith("It's ")), [1, 2, 3].map((s) => {
    const nanos = BigInt(s) * 1_000_000_000n;
    return `It's ${nanos}: random value: ${expectedRandom(nanos)}`;
  }));
});

test("HTTP streams pass through untouched", () => {
  const host = createTestHost({ wasm });
  const { upstream, downstream } = host.flow({
    request: { headers: { ":method": "GET", ":path": "/" }, body: "ping" },
    response: { headers: { ":status": "200" }, body: "pong" },
  });
  assert.deepEqual(upstream.headers, [[":method", "GET"], [":path", "/"]]);
  assert.equal(upstream.body, "ping");
  assert.equal(downstream.body, "pong");
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
