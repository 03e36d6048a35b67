import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../build/dispatch_call_on_tick.wasm", import.meta.url);
const CLOCK_START_MS = Date.UTC(2024, 0, 1);

/** The filter's path choice for a given host time, computed independently (SplitMix64 finalizer). */
function expectedPath(nowNanos: bigint): string {
  const mask = (1n << 64n) - 1n;
  let x = nowNanos;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & mask;
  x = x ^ (x >> 31n);
  return (x & 1n) === 1n ? "/fail" : "/ok";
}

function start() {
  return createTestHost({ strict: true, wasm: WASM, pluginName: "first", clusters: ["web_service"], clockStartMs: CLOCK_START_MS });
}

test("dispatch_call_on_tick: plugin start sets a 100 ms tick and says so", () => {
  const host = start();
  assert.equal(host.rootContextId, 1);
  assert.deepEqual(host.logs.at("info"), ["set tick period milliseconds: 100"]);
  host.advanceTime(99);
  assert.equal(host.callouts.all.length, 0, "no callout before the first tick");
  host.advanceTime(1);
  assert.equal(host.callouts.http.length, 1);
});

test("dispatch_call_on_tick: each tick dispatches GET /ok or /fail to web_service with a 5 s timeout", () => {
  const host = start();
  const paths: string[] = [];
  for (let tick = 1; tick <= 9; tick++) {
    host.advanceTime(100);
    const [call] = host.callouts.pendingHttp;
    assert.equal(call.cluster, "web_service");
    assert.equal(call.timeoutMs, 5000);
    assert.equal(call.body, "");
    const path = expectedPath(BigInt(CLOCK_START_MS + tick * 100) * 1_000_000n);
    assert.deepEqual(call.headers, [[":method", "GET"], [":authority", "some_authority"], ["accept", "*/*"], [":path", path]]);
    paths.push(path);
    call.respond({ status: path === "/ok" ? 200 : 503 });
  }
  assert.ok(paths.includes("/ok") && paths.includes("/fail"), `both paths are drawn over 9 ticks: ${paths.join(" ")}`);
});

test("dispatch_call_on_tick: 9 ticks each followed by a response log 'called <i> for contextID=1' and the answer", () => {
  const host = start();
  for (let tick = 1; tick <= 9; tick++) {
    host.advanceTime(100);
    host.logs.clear();
    host.callouts.pendingHttp[0].respond({ headers: [[":status", "200"], ["content-length", "0"]], trailers: [["x-trailer", "t"]] });
    assert.deepEqual(host.logs.at("info"), [
      `called ${tick} for contextID=1`,
      "response header for the dispatched call: :status: 200",
      "response header for the dispatched call: content-length: 0",
      "response trailer for the dispatched call: x-trailer: t",
    ]);
  }
  assert.equal(host.failure, null);
});

test("dispatch_call_on_tick: two plugin configurations in one VM tick and count separately (contextID=1 and =2)", () => {
  const host = start();
  // A second plugin configuration of the same module and vm_id shares the VM: root context 2.
  const second = host.addPlugin({ name: "second" });
  assert.equal(second.rootContextId, 2);
  assert.equal(second.plugin.vm, host.vm, "one VM");
  assert.deepEqual(host.logs.at("info"), ["set tick period milliseconds: 100", "set tick period milliseconds: 100"]);

  for (let n = 1; n <= 5; n++) {
    host.advanceTime(100);
    const pending = host.callouts.pendingHttp;
    assert.equal(pending.length, 2, "one callout per plugin per tick");
    for (const call of pending) {
      const ok = call.headers.some(([k, v]) => k === ":path" && v === "/ok");
      call.respond({ status: ok ? 200 : 503 });
    }
    assert.ok(host.logs.contains(`called ${n} for contextID=1`));
    assert.ok(host.logs.contains(`called ${n} for contextID=2`));
  }
  assert.ok(!host.logs.contains("called 6 for contextID=1") && !host.logs.contains("called 6 for contextID=2"));
  assert.ok(host.logs.contains("response header for the dispatched call: :status: 200"));
  assert.ok(host.logs.contains("response header for the dispatched call: :status: 503"));
  assert.equal(host.vm.contexts.size, 2, "two root contexts, one VM");
  // Plugin lines carry their plugin's name: Envoy's `wasm log <name>:` prefix for each root.
  assert.ok(host.logs.records.some((r) => r.pluginName === "first" && r.message === "called 5 for contextID=1"));
  assert.ok(host.logs.records.some((r) => r.pluginName === "second" && r.message === "called 5 for contextID=2"));
});

test("dispatch_call_on_tick: removing the second plugin stops its ticks; the first keeps ticking and counting", () => {
  const host = start();
  const second = host.addPlugin({ name: "second" });
  host.advanceTime(100);
  for (const call of host.callouts.pendingHttp) call.respond({ status: 200 });
  assert.equal(second.shutdown(), true, "the filter's root returns true from proxy_on_done");
  assert.equal(host.vm.contexts.size, 1);
  host.logs.clear();
  host.advanceTime(100);
  assert.equal(host.callouts.pendingHttp.length, 1, "only the first plugin still ticks");
  host.callouts.pendingHttp[0].respond({ status: 200 });
  assert.deepEqual(host.logs.at("info"), ["called 2 for contextID=1", "response header for the dispatched call: :status: 200"]);
  assert.throws(() => second.http(), { message: 'plugin "second" (root_id "") was shut down: it takes no new streams' });
});

test("dispatch_call_on_tick: a failed callout is still counted; a missing cluster is logged critical", () => {
  const host = start();
  host.advanceTime(100);
  host.callouts.pendingHttp[0].fail();
  assert.ok(host.logs.contains("called 1 for contextID=1"));
  assert.ok(!host.logs.includes("response header for the dispatched call"), "a failed call has no headers");

  // Not strict: the refused call is the point of this case.
  const noCluster = createTestHost({ wasm: WASM, clockStartMs: CLOCK_START_MS });
  noCluster.advanceTime(100);
  assert.deepEqual(noCluster.logs.at("critical"), ["dispatch httpcall failed: 2"]);
});
