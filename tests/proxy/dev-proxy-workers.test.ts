import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defaultConfig, type DevProxyConfig, type FailurePolicy, type WasmFilterConfig } from "../../src/proxy/config/dev-proxy-config";
import { startDevProxy, type DevProxy } from "../../src/proxy/dev-proxy";
import { addInterruptChecks, InterruptInstrumentationError } from "../../src/host/module";
import { buildInProcessWasmFilters, buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { ProxyStats } from "../../src/proxy/proxy-stats";
import { http1Request, LogCapture, until } from "./proxy-test-helpers";
import { HELLO_FILTER, LOOP_FILTER } from "./wat-filters";

const SHARED_DATA_WASM = new URL("../../examples/shared_data/build/shared_data.wasm", import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), "pwas-workers-"));
const write = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
after(() => rmSync(dir, { recursive: true, force: true }));

function filter(name: string, wasmPath: string, failurePolicy: FailurePolicy = "FAIL_CLOSED"): WasmFilterConfig {
  return {
    name,
    rootId: "",
    vmId: "",
    wasmPath,
    pluginConfiguration: Buffer.alloc(0),
    vmConfiguration: Buffer.alloc(0),
    failurePolicy,
    allowOnHeadersStopIteration: false,
  };
}

async function startProxy(adjust: (config: DevProxyConfig) => void): Promise<{ proxy: DevProxy; logs: LogCapture }> {
  const config = defaultConfig();
  config.listener.port = 0;
  config.admin = { host: "127.0.0.1", port: 0 };
  adjust(config);
  const logs = new LogCapture();
  const proxy = await startDevProxy(config, {
    logger: new ProxyLogger({ level: config.logLevel, output: logs, colour: false, thread: "main" }),
    buildFilters: buildWasmFilters,
  });
  return { proxy, logs };
}

describe("--concurrency: one VM per filter per worker thread", () => {
  it("shared data and stats are process-wide: 10 requests over 2 workers count to 10 once", async () => {
    const { proxy, logs } = await startProxy((config) => {
      config.concurrency = 2;
      config.filters = [filter("counter", SHARED_DATA_WASM), filter("hello", write("hello.wasm", HELLO_FILTER))];
    });
    try {
      for (let i = 0; i < 10; i++) {
        const response = await http1Request(`${proxy.url}/n${i}`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.hello, "world!");
      }
      const counted = (): string[] => logs.lines.filter((line) => / wasm log counter: shared value: \d+$/.test(line));
      await until(() => counted().length === 10, "10 shared value lines");
      const values = counted().map((line) => Number(/shared value: (\d+)$/.exec(line)![1]));
      assert.deepEqual([...values].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(counted().filter((line) => line.endsWith("shared value: 10")).length, 1);
      // The second bracket is the thread: two workers, neither of them the main thread.
      const threads = new Set(counted().map((line) => /^\[[^\]]+\]\[([^\]]+)\]/.exec(line)![1]));
      assert.equal(threads.size, 2, [...threads].join(" "));
      assert.ok(!threads.has("main"));

      const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
      const lines = stats.split("\n");
      assert.ok(lines.includes("wasmcustom.requests: 10"), stats);
      assert.equal(lines.filter((line) => line.startsWith("wasmcustom.requests:")).length, 1);
      assert.ok(lines.includes("http.ingress_http.downstream_rq_total: 10"), stats);
    } finally {
      await proxy.close();
    }
  });

  it("a module that does not load fails the start with the loader's message, nothing left running", async () => {
    await assert.rejects(
      startProxy((config) => {
        config.concurrency = 2;
        config.filters = [filter("bad", write("empty.wasm", new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])))];
      }),
      /proxy_abi_version|ABI version/,
    );
  });
});

describe("callback time limit with worker threads (--concurrency 2)", () => {
  it("FAIL_CLOSED: a looping callback gets 503 wasm_fail_stream, a fresh worker serves the next request", async () => {
    const { proxy, logs } = await startProxy((config) => {
      config.concurrency = 2;
      config.callbackTimeLimitMs = 1000;
      config.filters = [filter("looper", write("loop.wasm", LOOP_FILTER))];
    });
    try {
      assert.equal((await http1Request(`${proxy.url}/before`)).status, 200);
      const stuck = await http1Request(`${proxy.url}/loop`);
      assert.equal(stuck.status, 503);
      assert.equal(stuck.body, "");
      assert.equal(stuck.headers.server, "envoy");
      const report = logs.lines.find((line) => line.includes("callback time limit (1000 ms)"));
      assert.ok(report, logs.lines.join("\n"));
      assert.match(report, /\[error\]\[wasm\].*worker terminated, failure policy FAIL_CLOSED applied to its streams \(1 local_reply, 503 wasm_fail_stream\)/);

      const next = await http1Request(`${proxy.url}/after`);
      assert.equal(next.status, 200);
      assert.equal((JSON.parse(next.body) as { path: string }).path, "/after");
      assert.equal((await fetch(`${proxy.adminUrl}/ready`)).status, 200);
      const stats = (await (await fetch(`${proxy.adminUrl}/stats`)).text()).split("\n");
      assert.ok(stats.includes("wasm.worker_replaced: 1"), stats.join("\n"));
      assert.ok(stats.includes("http.ingress_http.downstream_rq_5xx: 1"), stats.join("\n"));
    } finally {
      await proxy.close();
    }
  });

  it("FAIL_OPEN: the stuck request passes through unfiltered", async () => {
    const { proxy } = await startProxy((config) => {
      config.concurrency = 2;
      config.callbackTimeLimitMs = 1000;
      config.filters = [filter("looper", write("loop-open.wasm", LOOP_FILTER), "FAIL_OPEN")];
    });
    try {
      const stuck = await http1Request(`${proxy.url}/loop-open`);
      assert.equal(stuck.status, 200);
      assert.equal((JSON.parse(stuck.body) as { path: string }).path, "/loop-open");
      for (let i = 0; i < 2; i++) assert.equal((await http1Request(`${proxy.url}/fine`)).status, 200);
    } finally {
      await proxy.close();
    }
  });
});

describe("callback time limit on the listener's thread (--concurrency 1)", () => {
  it("FAIL_CLOSED: the looping callback is stopped inside the VM, 503 wasm_fail_stream, a fresh VM serves the next request", async () => {
    const { proxy, logs } = await startProxy((config) => {
      config.concurrency = 1;
      config.callbackTimeLimitMs = 1000;
      config.filters = [filter("looper", write("loop-in-thread.wasm", LOOP_FILTER))];
    });
    try {
      assert.equal((await http1Request(`${proxy.url}/before`)).status, 200);
      const stuck = await http1Request(`${proxy.url}/loop`);
      assert.equal(stuck.status, 503);
      assert.equal(stuck.body, "");
      assert.equal(stuck.headers.server, "envoy");
      // The VM's own failure report (Envoy's format), then the proxy's line naming the policy.
      assert.ok(
        logs.lines.some((line) => /\[error\]\[wasm\].*Function: proxy_on_request_headers failed: callback time limit \(1000 ms\) exceeded/.test(line)),
        logs.lines.join("\n"),
      );
      const report = logs.lines.find((line) => line.includes("ran longer than the callback time limit (1000 ms)"));
      assert.ok(report, logs.lines.join("\n"));
      assert.match(report, /\[error\]\[wasm\].*looper: a filter callback \(proxy_on_request_headers\) ran longer than the callback time limit \(1000 ms\); VM stopped, failure policy FAIL_CLOSED applied to its streams; new streams get a fresh VM$/);
      // No worker thread was involved: the filter runs on the listener's thread.
      assert.ok(!logs.lines.some((line) => line.includes("worker")), logs.lines.join("\n"));

      const next = await http1Request(`${proxy.url}/after`);
      assert.equal(next.status, 200);
      assert.equal((JSON.parse(next.body) as { path: string }).path, "/after");
      assert.equal((await fetch(`${proxy.adminUrl}/ready`)).status, 200);
      const stats = (await (await fetch(`${proxy.adminUrl}/stats`)).text()).split("\n");
      assert.ok(stats.includes("wasm.looper.vm_replaced: 1"), stats.join("\n"));
      assert.ok(stats.includes("http.ingress_http.downstream_rq_5xx: 1"), stats.join("\n"));
      // A second stop gets a second fresh VM.
      assert.equal((await http1Request(`${proxy.url}/loop`)).status, 503);
      assert.equal((await http1Request(`${proxy.url}/again`)).status, 200);
      const after = (await (await fetch(`${proxy.adminUrl}/stats`)).text()).split("\n");
      assert.ok(after.includes("wasm.looper.vm_replaced: 2"), after.join("\n"));
    } finally {
      await proxy.close();
    }
  });

  it("FAIL_OPEN: the stopped request passes through unfiltered, the filter keeps working for the next ones", async () => {
    const { proxy } = await startProxy((config) => {
      config.concurrency = 1;
      config.callbackTimeLimitMs = 1000;
      config.filters = [filter("looper", write("loop-open-in-thread.wasm", LOOP_FILTER), "FAIL_OPEN"), filter("hello", write("hello-in-thread.wasm", HELLO_FILTER))];
    });
    try {
      const stuck = await http1Request(`${proxy.url}/loop-open`);
      assert.equal(stuck.status, 200);
      assert.equal((JSON.parse(stuck.body) as { path: string }).path, "/loop-open");
      // Only the looping filter failed: the next filter in the chain still ran on this stream.
      assert.equal(stuck.headers.hello, "world!");
      for (let i = 0; i < 2; i++) {
        const fine = await http1Request(`${proxy.url}/fine`);
        assert.equal(fine.status, 200);
        assert.equal(fine.headers.hello, "world!");
      }
    } finally {
      await proxy.close();
    }
  });
});

describe("--concurrency 1 with a module the time-limit checks cannot be added to", () => {
  it("warns and runs the filters in one worker thread instead; traffic is filtered as usual", async () => {
    // A module that already carries the checks' exports is refused by the instrumentation.
    const { proxy, logs } = await startProxy((config) => {
      config.concurrency = 1;
      config.callbackTimeLimitMs = 1000;
      config.filters = [filter("hello", write("hello-preinstrumented.wasm", addInterruptChecks(HELLO_FILTER)))];
    });
    try {
      const warning = logs.lines.find((line) => line.includes("filters run in a worker thread, not on the listener's thread"));
      assert.ok(warning, logs.lines.join("\n"));
      assert.match(warning, /\[warning\]\[main\].*the callback time limit cannot be added to the module \(.*instrumented.*\)$/);
      const response = await http1Request(`${proxy.url}/x`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.hello, "world!");
    } finally {
      await proxy.close();
    }
  });
});

describe("a filter chain that fails to start on the listener's thread", () => {
  it("leaves nothing behind: no VM's metrics stay in the proxy's stats", async () => {
    const stats = new ProxyStats();
    await assert.rejects(
      buildInProcessWasmFilters(
        {
          // The first filter starts (and defines its `requests` counter); the second cannot be instrumented.
          filters: [filter("hello", write("hello-first.wasm", HELLO_FILTER)), filter("again", write("hello-again.wasm", addInterruptChecks(HELLO_FILTER)))],
          hotReload: false,
          clusters: new Map(),
          logger: new ProxyLogger({ level: "off", output: new LogCapture(), colour: false }),
          stats,
        },
        { callbackTimeLimitMs: 1000 },
      ),
      InterruptInstrumentationError,
    );
    assert.equal(stats.renderText(), "");
  });
});
