// Timers longer than one Node timer holds (2^31-1 ms). The ABI lets a filter ask for any uint32 of
// milliseconds (tick period, gRPC timeout) and a route timeout may be longer still; Envoy keeps
// them as std::chrono::milliseconds (proxy-wasm-cpp-host src/exports.cc
// set_tick_period_milliseconds, envoy source/extensions/common/wasm/context.cc setTimerPeriod),
// so 0xffffffff ms is about 49.7 days. Node replaces a longer setTimeout delay with 1 ms and
// emits a TimeoutOverflowWarning: each test here fails that way without src/host/long-timeout.ts.
import assert from "node:assert/strict";
import { createServer as createH2cServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { LongTimeout, MAX_NODE_TIMER_MS, type TimerFunctions } from "../../src/host/long-timeout";
import { RealScheduler } from "../../src/host/scheduler";
import type { DevProxyConfig } from "../../src/proxy/config/dev-proxy-config";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import type { DevProxy } from "../../src/proxy/dev-proxy";
import { http1Request, startTestProxy, startUpstream, startWasmTestProxy, useUpstream } from "../proxy/proxy-test-helpers";
import { grpcFilter, tickFilter } from "../proxy/wat-filters";

const UINT32_MAX = 0xffffffff;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Every test below also fails on Node's overflow warning, wherever it came from.
const overflowWarnings: string[] = [];
const onWarning = (warning: Error) => {
  if (warning.name === "TimeoutOverflowWarning") overflowWarnings.push(warning.message);
};
before(() => process.on("warning", onWarning));
after(() => {
  process.off("warning", onWarning);
  assert.deepEqual(overflowWarnings, []);
});

/** Node timer functions on a fake clock: `advance` fires what falls due, in order. */
class FakeTimers implements TimerFunctions {
  now = 0;
  readonly armed: number[] = [];
  readonly unrefed: number[] = [];
  private pending: { due: number; fire: () => void; id: number }[] = [];
  private nextId = 1;

  setTimeout(fire: () => void, delayMs: number) {
    assert.ok(delayMs >= 0 && delayMs <= MAX_NODE_TIMER_MS, `a Node timer of ${delayMs} ms would overflow`);
    const id = this.nextId++;
    this.armed.push(delayMs);
    this.pending.push({ due: this.now + delayMs, fire, id });
    return { id, unref: () => this.unrefed.push(id) };
  }

  clearTimeout(timer: unknown): void {
    const id = (timer as { id: number }).id;
    this.pending = this.pending.filter((t) => t.id !== id);
  }

  get count(): number {
    return this.pending.length;
  }

  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const next = this.pending.filter((t) => t.due <= target).sort((a, b) => a.due - b.due)[0];
      if (next === undefined) break;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.now = next.due;
      next.fire();
    }
    this.now = target;
  }
}

describe("LongTimeout (fake Node timers)", () => {
  it("0xffffffff ms is chained as 2^31-1, 2^31-1 and 1 ms and fires once, at 0xffffffff ms", () => {
    const timers = new FakeTimers();
    let fired = 0;
    new LongTimeout(UINT32_MAX, () => fired++, timers);
    timers.advance(UINT32_MAX - 1);
    assert.equal(fired, 0);
    timers.advance(1);
    assert.equal(fired, 1);
    assert.deepEqual(timers.armed, [MAX_NODE_TIMER_MS, MAX_NODE_TIMER_MS, 1]);
    timers.advance(UINT32_MAX);
    assert.equal(fired, 1);
  });

  it("a delay Node holds is one timer", () => {
    const timers = new FakeTimers();
    let fired = 0;
    const timeout = new LongTimeout(250, () => fired++, timers);
    assert.equal(timeout.pending, true);
    timers.advance(249);
    assert.equal(fired, 0);
    timers.advance(1);
    assert.equal(fired, 1);
    assert.equal(timeout.pending, false);
    assert.deepEqual(timers.armed, [250]);
  });

  it("cancel between two links of the chain: nothing fires and no timer is left", () => {
    const timers = new FakeTimers();
    let fired = 0;
    const timeout = new LongTimeout(2 ** 40, () => fired++, timers);
    timers.advance(MAX_NODE_TIMER_MS + 10);
    assert.equal(timers.armed.length, 2);
    timeout.cancel();
    assert.equal(timers.count, 0);
    assert.equal(timeout.pending, false);
    timers.advance(2 ** 41);
    assert.equal(fired, 0);
    timeout.cancel();
  });

  it("negative and NaN delays are 0, a fraction rounds up, Infinity never fires and arms nothing", () => {
    const timers = new FakeTimers();
    const fired: string[] = [];
    new LongTimeout(-5, () => fired.push("negative"), timers);
    new LongTimeout(Number.NaN, () => fired.push("NaN"), timers);
    new LongTimeout(1.2, () => fired.push("fraction"), timers);
    const never = new LongTimeout(Infinity, () => fired.push("Infinity"), timers);
    assert.deepEqual(timers.armed, [0, 0, 2]);
    timers.advance(1);
    assert.deepEqual(fired, ["negative", "NaN"]);
    timers.advance(1);
    assert.deepEqual(fired, ["negative", "NaN", "fraction"]);
    assert.equal(never.pending, true);
    never.cancel();
    assert.equal(never.pending, false);
  });

  it("unref holds for every later link of the chain", () => {
    const timers = new FakeTimers();
    new LongTimeout(UINT32_MAX, () => {}, timers).unref();
    timers.advance(UINT32_MAX);
    assert.deepEqual(timers.unrefed, [1, 2, 3]);
  });
});

describe("RealScheduler", () => {
  it("a timer of 0xffffffff ms does not fire within 200 ms; one of 20 ms does", async () => {
    const scheduler = new RealScheduler();
    const fired: string[] = [];
    const long = scheduler.setTimer(UINT32_MAX, () => fired.push("long"));
    scheduler.setTimer(20, () => fired.push("short"));
    await sleep(200);
    assert.deepEqual(fired, ["short"]);
    scheduler.cancelTimer(long);
  });
});

async function startWasmProxy(wasm: Uint8Array, adjust: (config: DevProxyConfig) => void = () => {}): Promise<DevProxy> {
  return (await startWasmTestProxy(wasm, adjust)).proxy;
}

async function tickCount(proxy: DevProxy): Promise<string> {
  return (await (await fetch(`${proxy.adminUrl}/stats?filter=ticks`)).text()).trim();
}

describe("dev proxy: long timers", () => {
  it("a tick period of 0xffffffff ms does not tick within 200 ms (a period of 10 ms does)", async () => {
    const quiet = await startWasmProxy(tickFilter(UINT32_MAX));
    const busy = await startWasmProxy(tickFilter(10));
    try {
      await sleep(200);
      assert.equal(await tickCount(quiet), "wasmcustom.ticks: 0");
      assert.notEqual(await tickCount(busy), "wasmcustom.ticks: 0");
      assert.equal((await http1Request(`${quiet.url}/still-serving`)).status, 200);
    } finally {
      await quiet.close();
      await busy.close();
    }
  });

  it("a gRPC callout with a timeout of 0xffffffff ms waits for its answer (300 ms) instead of DEADLINE_EXCEEDED", async () => {
    const server = createH2cServer();
    server.on("stream", (stream) => {
      stream.on("error", () => {});
      stream.resume();
      stream.on("end", () =>
        setTimeout(() => {
          if (stream.destroyed) return;
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.end(Buffer.from([0, 0, 0, 0, 4, ...Buffer.from("pong")]));
        }, 300),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const proxy = await startWasmProxy(grpcFilter(UINT32_MAX), (config) => {
      const cluster = clusterFromUrl("grpc", `http://127.0.0.1:${(server.address() as AddressInfo).port}`, "test");
      cluster.http2 = true;
      config.clusters.push(cluster);
    });
    try {
      const response = await http1Request(`${proxy.url}/guarded`);
      assert.equal(response.status, 200);
      assert.equal((JSON.parse(response.body) as { path: string }).path, "/guarded");
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("a route timeout of 2^32+5 ms waits for an upstream that answers after 300 ms instead of 504", async () => {
    const upstream = await startUpstream((_req, res) => {
      setTimeout(() => res.end("slow but fine"), 300);
    });
    const { proxy } = await startTestProxy([], (config) => {
      useUpstream(upstream.url)(config);
      config.routes[0].timeoutMs = 2 ** 32 + 5;
    });
    try {
      const response = await http1Request(`${proxy.url}/slow`);
      assert.equal(response.status, 200);
      assert.equal(response.body, "slow but fine");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
