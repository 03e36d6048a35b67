// Issue #12, fault 9, through the dev proxy with a real client: root-only examples deployed as HTTP
// filters (as an Istio WasmPlugin always deploys a plugin). Envoy creates a stream context under
// the filter's root for every request (source/extensions/common/wasm/context.cc, Context::onCreate);
// an SDK that traps there fails the VM, and then every request fails by the failure policy
// (fail closed: 503 with details `wasm_fail_stream`, Context::failStream in the same file). With
// this SDK the requests pass through untouched and the plugin says so once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { defaultConfig, type WasmFilterConfig } from "../../src/proxy/config/dev-proxy-config";
import { startDevProxy, type DevProxy } from "../../src/proxy/dev-proxy";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import type { EchoReply } from "../../src/proxy/echo-upstream";
import { http1Request, LogCapture } from "./proxy-test-helpers";

const example = (name: string) => new URL(`../../examples/${name}/build/${name}.wasm`, import.meta.url).pathname;

function rootOnlyFilter(name: string, wasm: string, settings: Partial<WasmFilterConfig> = {}): WasmFilterConfig {
  return {
    name,
    rootId: "",
    vmId: "",
    wasmPath: example(wasm),
    pluginConfiguration: Buffer.alloc(0),
    vmConfiguration: Buffer.alloc(0),
    failurePolicy: "FAIL_CLOSED",
    allowOnHeadersStopIteration: false,
    ...settings,
  };
}

const warningLine = (name: string) => `plugin "${name}" makes no stream context; its streams pass through untouched`;

describe("dev proxy: root-only plugins deployed as HTTP filters", () => {
  let proxy: DevProxy;
  const logs = new LogCapture();
  before(async () => {
    const config = defaultConfig();
    config.listener.port = 0;
    config.admin = { host: "127.0.0.1", port: 0 };
    config.filters = [
      rootOnlyFilter("receiver", "shared_queue", { rootId: "receiver", vmId: "receiver", pluginConfiguration: Buffer.from("http_request_headers") }),
      // Its tick dispatches to a cluster the proxy does not have: that is logged, and must not
      // disturb the traffic either.
      rootOnlyFilter("ticker", "dispatch_call_on_tick"),
    ];
    proxy = await startDevProxy(config, {
      logger: new ProxyLogger({ level: config.logLevel, output: logs, colour: false }),
      buildFilters: buildWasmFilters,
    });
  });
  after(() => proxy.close());

  it("requests and responses pass through unchanged, request after request; each plugin warns once", async () => {
    for (let n = 1; n <= 3; n++) {
      const response = await http1Request(`${proxy.url}/upload/${n}?q=${n}`, {
        method: "POST",
        headers: { "x-request": `r${n}`, "content-type": "text/plain" },
        body: [`first half ${n}, `, `second half ${n}`],
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers["content-type"], "application/json");
      const echo = JSON.parse(response.body) as EchoReply;
      assert.equal(echo.method, "POST");
      assert.equal(echo.path, `/upload/${n}?q=${n}`);
      assert.equal(echo.body, `first half ${n}, second half ${n}`);
      assert.equal(echo.headers["x-request"], `r${n}`);
    }
    for (const name of ["receiver", "ticker"]) {
      const warnings = logs.lines.filter((line) => line.includes(warningLine(name)));
      assert.equal(warnings.length, 1, logs.lines.join("\n"));
      assert.match(warnings[0], /\[warning\]\[wasm\] \[context \d+\] wasm log /);
    }
    assert.ok(!logs.lines.some((line) => line.includes("abort")), logs.lines.join("\n"));
  });
});
