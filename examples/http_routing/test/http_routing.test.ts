import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/http_routing.wasm", import.meta.url);

function info(host: TestHost): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === "info").map((r) => r.message);
}

// The filter's dice without configuration: SplitMix64's output function of the host time in ns,
// truncated to 32 bits (written out here so the expectation does not reuse the filter's code).
function expectedDice(nanos: bigint): number {
  const mask = (1n << 64n) - 1n;
  let z = (nanos + 0x9e3779b97f4a7c15n) & mask;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
  return Number((z ^ (z >> 31n)) & 0xffffffffn);
}

const request = { ":method": "GET", ":path": "/", ":authority": "my-host.com" };

test("config [2] (even): :authority becomes my-host.com-canary and the route cache is cleared", () => {
  const host = createTestHost({ wasm, pluginConfig: new Uint8Array([2]) });
  host.logs.clear();
  const stream = host.http();
  assert.equal(stream.requestHeaders(request, { endOfStream: true }), "Continue");
  assert.equal(stream.upstream.header(":authority"), "my-host.com-canary");
  assert.deepEqual(info(host), ["value: 2"]);
  assert.deepEqual(host.process.foreignFunctions.recorded.map((c) => [c.name, c.contextId]), [["clear_route_cache", 2]]);
});

test("config [1] (odd): :authority is untouched and the route cache is left alone", () => {
  const host = createTestHost({ wasm, pluginConfig: new Uint8Array([1]) });
  host.logs.clear();
  const { upstream } = host.flow({ request: { headers: request } });
  assert.deepEqual(upstream.headers, [[":method", "GET"], [":path", "/"], [":authority", "my-host.com"]]);
  assert.deepEqual(info(host), ["value: 1"]);
  assert.deepEqual(host.process.foreignFunctions.recorded, []);
});

test("only the first configuration byte counts: [3, 2] is odd, 0 is even", () => {
  const odd = createTestHost({ wasm, pluginConfig: new Uint8Array([3, 2]) });
  assert.equal(odd.flow({ request: { headers: request } }).upstream.header(":authority"), "my-host.com");
  const zero = createTestHost({ wasm, pluginConfig: new Uint8Array([0]) });
  assert.equal(zero.flow({ request: { headers: request } }).upstream.header(":authority"), "my-host.com-canary");
});

test("without configuration the dice comes from the host clock, so a fixed fake clock fixes the route", () => {
  for (const clockStartMs of [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 0, 0, 1), Date.UTC(2030, 5, 15, 12)]) {
    const host = createTestHost({ wasm, clockStartMs });
    host.logs.clear();
    const dice = expectedDice(BigInt(clockStartMs) * 1_000_000n);
    const { upstream } = host.flow({ request: { headers: request } });
    assert.deepEqual(info(host), [`value: ${dice}`]);
    assert.equal(upstream.header(":authority"), dice % 2 === 0 ? "my-host.com-canary" : "my-host.com");
  }
});

test("the clock-driven dice reaches both the canary and the primary over time", () => {
  const host = createTestHost({ wasm });
  const authorities = new Set<string | undefined>();
  for (let i = 0; i < 16; i++) {
    authorities.add(host.flow({ request: { headers: request } }).upstream.header(":authority"));
    host.advanceTime(1);
  }
  assert.deepEqual([...authorities].sort(), ["my-host.com", "my-host.com-canary"]);
});

test("an even dice without :authority logs an error and lets the request through", () => {
  const host = createTestHost({ wasm, pluginConfig: new Uint8Array([2]) });
  host.logs.clear();
  const { upstream } = host.flow({ request: { headers: { ":path": "/" } } });
  assert.deepEqual(upstream.headers, [[":path", "/"]]);
  assert.deepEqual(host.logs.records.filter((r) => r.source === "wasm" && r.level === "error").map((r) => r.message), ["failed to get the :authority request header"]);
});

test("strict mode: 200 streams make no out-of-place hostcall, leave no context behind and do not grow memory", () => {
  const host = createTestHost({ wasm, strict: true, pluginConfig: new Uint8Array([2]) });
  // leakCheck throws if a context survives its stream or memory grows by more than a page.
  host.leakCheck(200, () => {
    host.flow({
      request: { headers: { ":method": "POST", ":path": "/", ":authority": "my-host.com", "content-type": "application/json", "content-length": "9" }, body: '{"id": 1}' },
      response: { headers: { ":status": "200", "content-length": "3" }, body: "abc" },
    });
  });
  assert.equal(host.failure, null);
});
