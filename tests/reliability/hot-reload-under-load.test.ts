// Fault of class "resources": the filter's .wasm is replaced again and again while keep-alive
// clients keep sending requests. Envoy swaps a plugin on a config update (LDS/ECDS) without
// dropping traffic: streams in flight finish on the old VM, new streams get the new one
// (envoy source/extensions/filters/http/wasm/config.cc, source/extensions/common/wasm/wasm.cc
// `getOrCreateThreadLocalPlugin`). Ours: every request is answered 200 by exactly one of the
// modules, none fails, and the reloads are counted.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../../src/proxy/config/dev-proxy-config";
import { startDevProxy } from "../../src/proxy/dev-proxy";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { LogCapture, until } from "../proxy/proxy-test-helpers";
import { ADDRESS_FILTER, HELLO_FILTER } from "../proxy/wat-filters";

const dir = mkdtempSync(join(tmpdir(), "pwas-reload-load-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const CLIENTS = 4;
const RELOADS = 4;

/** Which module answered: HELLO_FILTER adds `hello`, ADDRESS_FILTER adds `x-source`. */
type Answer = { status: number; module: "hello" | "address" | "both" | "neither" } | { error: string };

function get(agent: Agent, url: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on("end", () => {
        const hello = res.headers.hello !== undefined;
        const address = res.headers["x-source"] !== undefined;
        resolve({ status: res.statusCode ?? 0, module: hello && address ? "both" : hello ? "hello" : address ? "address" : "neither" });
      });
      res.on("error", (error) => resolve({ error: error.message }));
    });
    req.on("error", (error) => resolve({ error: error.message }));
    req.end();
  });
}

describe("hot reload under load", () => {
  it("four keep-alive clients send requests while the module is swapped four times: every answer is 200 from one whole module", async () => {
    const path = join(dir, "filter.wasm");
    writeFileSync(path, HELLO_FILTER);
    const config = defaultConfig();
    config.listener.port = 0;
    config.admin = { host: "127.0.0.1", port: 0 };
    config.hotReload = true;
    config.filters = [
      {
        name: "swapped",
        rootId: "",
        vmId: "",
        wasmPath: path,
        pluginConfiguration: Buffer.alloc(0),
        vmConfiguration: Buffer.alloc(0),
        failurePolicy: "FAIL_CLOSED",
        allowOnHeadersStopIteration: false,
      },
    ];
    const logs = new LogCapture();
    const proxy = await startDevProxy(config, {
      logger: new ProxyLogger({ level: config.logLevel, output: logs, colour: false }),
      buildFilters: buildWasmFilters,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const answers: Answer[] = [];
    let stop = false;
    const client = async (index: number): Promise<void> => {
      for (let n = 0; !stop; n++) answers.push(await get(agent, `${proxy.url}/client-${index}/${n}`));
    };
    const reloaded = () => logs.lines.filter((line) => line.includes(`reloaded ${path}`)).length;
    try {
      const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
      for (let swap = 1; swap <= RELOADS; swap++) {
        const before = answers.length;
        await until(() => answers.length >= before + 20, "requests between swaps");
        // Written aside and renamed, so the poller never reads a half-written module.
        writeFileSync(`${path}.next`, swap % 2 === 1 ? ADDRESS_FILTER : HELLO_FILTER);
        renameSync(`${path}.next`, path);
        await until(() => reloaded() === swap, `reload ${swap}`);
      }
      const settled = answers.length;
      await until(() => answers.length >= settled + 20, "requests after the last swap");
      stop = true;
      await Promise.all(clients);

      assert.deepEqual(answers.filter((answer) => "error" in answer), [], "no request failed");
      const statuses = new Set(answers.map((answer) => ("status" in answer ? answer.status : 0)));
      assert.deepEqual([...statuses], [200]);
      const modules = new Set(answers.map((answer) => ("module" in answer ? answer.module : "")));
      assert.ok(!modules.has("both") && !modules.has("neither"), `every answer came from one whole module: ${[...modules].join(", ")}`);
      assert.deepEqual([...modules].sort(), ["address", "hello"]);
      // The last module written (swap 4: HELLO_FILTER) answers new streams.
      assert.equal((await get(agent, `${proxy.url}/last`) as { module: string }).module, "hello");
      const stats = await (await fetch(`${proxy.adminUrl}/stats?filter=hot_reload`)).text();
      assert.equal(stats, `wasm.swapped.hot_reload: ${RELOADS}\n`);
      assert.deepEqual(logs.lines.filter((line) => line.includes("rejected")), []);
    } finally {
      stop = true;
      agent.destroy();
      await proxy.close();
    }
  });
});
