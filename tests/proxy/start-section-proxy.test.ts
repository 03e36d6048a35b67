/**
 * The dev proxy with a filter whose wasm start section never returns (issue #12, fault 5). In
 * Envoy nothing bounds it (cpp-host runs it inside `wasm::Instance::make`, src/v8/v8.cc
 * `V8::link`) and the proxy never starts; here the callback time limit stops it, the start fails
 * with cpp-host's "Failed to create new Wasm instance", nothing is left running, and the process
 * goes on to start a healthy proxy. Both with filter workers and on the listener's thread.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defaultConfig, type DevProxyConfig, type WasmFilterConfig } from "../../src/proxy/config/dev-proxy-config";
import { startDevProxy, type DevProxy } from "../../src/proxy/dev-proxy";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { http1Request, LogCapture, until } from "./proxy-test-helpers";
import { compileWat, HELLO_FILTER } from "./wat-filters";

const START_LOOP_FILTER = compileWat(`(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func $spin (loop $forever (br $forever)))
  (start $spin))`);

const dir = mkdtempSync(join(tmpdir(), "pwas-start-"));
const write = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
after(() => rmSync(dir, { recursive: true, force: true }));

function filter(name: string, wasmPath: string): WasmFilterConfig {
  return {
    name,
    rootId: "",
    vmId: "",
    wasmPath,
    pluginConfiguration: Buffer.alloc(0),
    vmConfiguration: Buffer.alloc(0),
    failurePolicy: "FAIL_CLOSED",
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

for (const concurrency of [2, 1]) {
  describe(`a start section that loops (--concurrency ${concurrency})`, () => {
    it("fails the proxy's start with the instantiation failure; the process then starts a healthy proxy", async () => {
      await assert.rejects(
        startProxy((config) => {
          config.concurrency = concurrency;
          config.callbackTimeLimitMs = 500;
          config.filters = [filter("spinner", write(`spin-${concurrency}.wasm`, START_LOOP_FILTER))];
        }),
        (error: Error) => {
          if (concurrency === 1) {
            // In the listener's thread the VM itself stops the start section.
            assert.match(error.message, /^Failed to initialize Wasm code\nFailed to create new Wasm instance\nFunction: wasm start section failed: callback time limit \(500 ms\) exceeded$/);
          } else {
            // In a worker, the pool's watchdog stops the worker that is stuck starting its VMs.
            assert.match(
              error.message,
              /^Failed to initialize Wasm code: starting the VMs in worker \d+ ran longer than the callback time limit \(500 ms\) \(a wasm start section, _initialize, proxy_on_vm_start or proxy_on_configure that does not return\?\); worker terminated$/,
            );
          }
          return true;
        },
      );
      const { proxy } = await startProxy((config) => {
        config.concurrency = concurrency;
        config.callbackTimeLimitMs = 500;
        config.filters = [filter("hello", write(`hello-${concurrency}.wasm`, HELLO_FILTER))];
      });
      try {
        const response = await http1Request(`${proxy.url}/after`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.hello, "world!");
      } finally {
        await proxy.close();
      }
    });
  });
}

describe("a hot reload to a module whose start section loops (--concurrency 1)", () => {
  it("is rejected within the time limit and the running module keeps serving", async () => {
    const path = write("reload.wasm", HELLO_FILTER);
    const { proxy, logs } = await startProxy((config) => {
      config.concurrency = 1;
      config.hotReload = true;
      config.callbackTimeLimitMs = 500;
      config.filters = [filter("hello", path)];
    });
    try {
      writeFileSync(path, START_LOOP_FILTER);
      const rejected = (): string | undefined => logs.lines.find((line) => line.includes(`hot reload of ${path} rejected, keeping the running VM`));
      await until(() => rejected() !== undefined, "the rejected reload");
      assert.match(rejected()!, /rejected, keeping the running VM: Failed to initialize Wasm code$/);
      assert.ok(logs.lines.includes("Failed to create new Wasm instance"), logs.lines.join("\n"));
      const response = await http1Request(`${proxy.url}/still`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.hello, "world!");
    } finally {
      await proxy.close();
    }
  });
});

describe("a hot reload to a module whose start section loops (--concurrency 2)", () => {
  it("no stream waits forever: each stuck worker is replaced, a replacement that cannot start fails its streams by the policy and is tried again later", async () => {
    const path = write("reload-workers.wasm", HELLO_FILTER);
    const { proxy, logs } = await startProxy((config) => {
      config.concurrency = 2;
      config.hotReload = true;
      config.callbackTimeLimitMs = 500;
      config.filters = [filter("hello", path)];
    });
    try {
      assert.equal((await http1Request(`${proxy.url}/before`)).headers.hello, "world!");
      writeFileSync(path, START_LOOP_FILTER);
      await until(() => logs.lines.some((line) => line.includes("ran longer than the callback time limit (500 ms); worker terminated")), "a stuck worker replaced");
      // Sent while replacements start: each stream ends, none hangs. It gets the policy (503), or,
      // on a worker whose poller has not yet seen the new file, the old module's answer.
      const during = await Promise.all([1, 2, 3, 4].map((i) => http1Request(`${proxy.url}/during-${i}`)));
      for (const response of during) {
        if (response.status !== 503) assert.deepEqual([response.status, response.headers.hello], [200, "world!"]);
      }
      const failed = () => logs.lines.filter((line) => line.includes("replacement worker failed to start: Failed to initialize Wasm code: starting the VMs in worker"));
      await until(() => failed().length >= 2, "both replacements given up");
      const after = await http1Request(`${proxy.url}/after`);
      assert.equal(after.status, 503);
      assert.equal((await fetch(`${proxy.adminUrl}/ready`)).status, 200);

      // Fixed on disk: a later stream starts a worker again (after a back-off of 1 s) and it serves.
      writeFileSync(path, HELLO_FILTER);
      const giveUp = Date.now() + 60_000;
      for (;;) {
        const response = await http1Request(`${proxy.url}/fixed`);
        if (response.status === 200 && response.headers.hello === "world!") break;
        assert.equal(response.status, 503);
        assert.ok(Date.now() < giveUp, "no worker started again within 60 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(logs.lines.some((line) => /worker \d+ started; it serves streams again/.test(line)), logs.lines.join("\n"));
    } finally {
      await proxy.close();
    }
  });
});
