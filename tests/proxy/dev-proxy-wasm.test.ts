import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { defaultConfig, type DevProxyConfig, type FailurePolicy } from "../../src/proxy/config/dev-proxy-config";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { startDevProxy, type DevProxy } from "../../src/proxy/dev-proxy";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { http1Request, LogCapture, startUpstream, until } from "./proxy-test-helpers";
import { ADDRESS_FILTER, CALLOUT_FILTER, GRPC_FILTER, HELLO_FILTER, TRAP_FILTER } from "./wat-filters";
import { Agent, request as httpRequest } from "node:http";
import { createServer as createH2cServer } from "node:http2";
import type { AddressInfo } from "node:net";

const dir = mkdtempSync(join(tmpdir(), "pwas-proxy-"));
const write = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
after(() => rmSync(dir, { recursive: true, force: true }));

async function startWasmProxy(
  wasmPath: string,
  adjust: (config: DevProxyConfig) => void = () => {},
  failurePolicy: FailurePolicy = "FAIL_CLOSED",
): Promise<{ proxy: DevProxy; logs: LogCapture }> {
  const config = defaultConfig();
  config.listener.port = 0;
  config.admin = { host: "127.0.0.1", port: 0 };
  config.filters = [
    {
      name: "my_plugin",
      rootId: "my_root",
      vmId: "",
      wasmPath,
      pluginConfiguration: Buffer.alloc(0),
      vmConfiguration: Buffer.alloc(0),
      failurePolicy,
      allowOnHeadersStopIteration: false,
    },
  ];
  adjust(config);
  const logs = new LogCapture();
  const proxy = await startDevProxy(config, {
    logger: new ProxyLogger({ level: config.logLevel, output: logs, colour: false }),
    buildFilters: buildWasmFilters,
  });
  return { proxy, logs };
}

/** A GET through `agent`; the response's `x-source`/`x-destination` and the client socket's local port. */
function addressesThrough(agent: Agent, url: string): Promise<{ source: unknown; destination: unknown; clientPort: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent }, (res) => {
      // The keep-alive agent takes the socket back at the end of the response: read it first.
      const clientPort = res.socket.localPort ?? 0;
      res.resume();
      res.on("end", () => resolve({ source: res.headers["x-source"], destination: res.headers["x-destination"], clientPort }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("dev proxy: a stream's source and destination properties", () => {
  it("are its own connection's addresses, for every stream of each keep-alive connection", async () => {
    const { proxy } = await startWasmProxy(write("address.wasm", ADDRESS_FILTER));
    const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];
    try {
      const proxyPort = Number(new URL(proxy.url).port);
      const seen = new Set<number>();
      for (let round = 0; round < 3; round++) {
        for (const agent of agents) {
          const { source, destination, clientPort } = await addressesThrough(agent, `${proxy.url}/`);
          seen.add(clientPort);
          assert.equal(source, `127.0.0.1:${clientPort}`);
          assert.equal(destination, `127.0.0.1:${proxyPort}`);
        }
      }
      assert.equal(seen.size, 2);
    } finally {
      for (const agent of agents) agent.destroy();
      await proxy.close();
    }
  });
});

describe("dev proxy running Wasm filters through the host's stream driver", () => {
  let hello: { proxy: DevProxy; logs: LogCapture };
  before(async () => {
    hello = await startWasmProxy(write("hello.wasm", HELLO_FILTER));
  });
  after(() => hello.proxy.close());

  it("the filter's response header reaches an HTTP/1.1 client", async () => {
    const response = await http1Request(`${hello.proxy.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.hello, "world!");
  });

  it("filter logs use Envoy's wasm log format with plugin name, root id and context id", async () => {
    await http1Request(`${hello.proxy.url}/`);
    const line = hello.logs.lines.find((entry) => entry.includes("response headers seen"));
    assert.ok(line, hello.logs.lines.join("\n"));
    assert.match(line, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[info\]\[wasm\] \[context \d+\] wasm log my_plugin my_root: response headers seen$/);
  });

  it("the filter's counter shows in /stats and /stats/prometheus under Envoy's names", async () => {
    const before = await (await fetch(`${hello.proxy.adminUrl}/stats?filter=wasmcustom`)).text();
    const count = Number(/^wasmcustom\.requests: (\d+)$/m.exec(before)?.[1]);
    await http1Request(`${hello.proxy.url}/`);
    const text = await (await fetch(`${hello.proxy.adminUrl}/stats?filter=wasmcustom`)).text();
    assert.equal(text, `wasmcustom.requests: ${count + 1}\n`);
    const prometheus = await (await fetch(`${hello.proxy.adminUrl}/stats/prometheus`)).text();
    assert.match(prometheus, new RegExp(`^# TYPE requests counter\\nrequests\\{\\} ${count + 1}$`, "m"));
  });

  it("/logging at error hides the filter's info lines", async () => {
    const changed = await fetch(`${hello.proxy.adminUrl}/logging?level=error`, { method: "POST" });
    assert.equal(changed.status, 200);
    const seen = hello.logs.lines.length;
    const response = await http1Request(`${hello.proxy.url}/`);
    assert.equal(response.headers.hello, "world!");
    assert.equal(hello.logs.lines.slice(seen).filter((line) => line.includes("wasm log")).length, 0);
    await fetch(`${hello.proxy.adminUrl}/logging?level=info`, { method: "POST" });
  });
});

describe("failure policy", () => {
  it("FAIL_CLOSED: a trapping filter gets 503 and the proxy keeps serving", async () => {
    const { proxy, logs } = await startWasmProxy(write("trap-closed.wasm", TRAP_FILTER));
    try {
      const first = await http1Request(`${proxy.url}/`);
      assert.equal(first.status, 503);
      assert.equal(first.body, "");
      const second = await http1Request(`${proxy.url}/`);
      assert.equal(second.status, 503);
      assert.ok(logs.lines.some((line) => line.includes("proxy_on_request_headers")), logs.lines.join("\n"));
    } finally {
      await proxy.close();
    }
  });

  it("FAIL_OPEN: traffic passes unmodified once the VM failed", async () => {
    const { proxy } = await startWasmProxy(write("trap-open.wasm", TRAP_FILTER), () => {}, "FAIL_OPEN");
    try {
      const response = await http1Request(`${proxy.url}/open`);
      assert.equal(response.status, 200);
      assert.equal((JSON.parse(response.body) as { path: string }).path, "/open");
    } finally {
      await proxy.close();
    }
  });

  it("a module that would not load in Envoy stops the start, with cpp-host's message", async () => {
    await assert.rejects(
      startWasmProxy(write("empty.wasm", new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))),
      /proxy_abi_version|ABI version/,
    );
  });
});

describe("HTTP callouts to named clusters over real HTTP", () => {
  it("the callout answer decides: allowed continues upstream, denied gets the filter's 403", async () => {
    let verdict = "ok";
    const seenPaths: string[] = [];
    const auth = await startUpstream((req, res) => {
      seenPaths.push(`${req.method} ${req.url} host=${req.headers.host}`);
      res.end(verdict);
    });
    const { proxy } = await startWasmProxy(write("callout.wasm", CALLOUT_FILTER), (config) => {
      config.clusters.push(clusterFromUrl("auth", auth.url, "test"));
    });
    try {
      const allowed = await http1Request(`${proxy.url}/resource`);
      assert.equal(allowed.status, 200);
      assert.equal((JSON.parse(allowed.body) as { path: string }).path, "/resource");
      verdict = "";
      const denied = await http1Request(`${proxy.url}/resource`);
      assert.equal(denied.status, 403);
      assert.equal(denied.body, "denied");
      assert.deepEqual(seenPaths, ["GET /check host=auth", "GET /check host=auth"]);
    } finally {
      await proxy.close();
      await auth.close();
    }
  });
});

describe("gRPC callouts over real HTTP/2", () => {
  it("a unary call carries path, metadata and framed message; its answer or status decides", async () => {
    let verdict: "ok" | "deny" = "ok";
    const seen: string[] = [];
    const server = createH2cServer();
    server.on("stream", (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        seen.push(`${headers[":path"]} ${headers["content-type"]} x-md=${headers["x-md"]} te=${headers.te} body=${body.toString("hex")}`);
        if (verdict === "deny") {
          stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "7", "grpc-message": "no%20way" }, { endStream: true });
          return;
        }
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(Buffer.from([0, 0, 0, 0, 4, ...Buffer.from("pong")]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const grpcUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { proxy } = await startWasmProxy(write("grpc.wasm", GRPC_FILTER), (config) => {
      const cluster = clusterFromUrl("grpc", grpcUrl, "test");
      cluster.http2 = true;
      config.clusters.push(cluster);
    });
    try {
      const allowed = await http1Request(`${proxy.url}/guarded`);
      assert.equal(allowed.status, 200);
      assert.equal((JSON.parse(allowed.body) as { path: string }).path, "/guarded");
      verdict = "deny";
      const denied = await http1Request(`${proxy.url}/guarded`);
      assert.equal(denied.status, 403);
      assert.equal(denied.body, "denied");
      const request = "/pkg.Auth/Check application/grpc x-md=1 te=trailers body=0000000004" + Buffer.from("ping").toString("hex");
      assert.deepEqual(seen, [request, request]);
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("hot reload", () => {
  it("new streams get the rebuilt module once the .wasm changes on disk", async () => {
    const path = write("reloading.wasm", TRAP_FILTER);
    const { proxy, logs } = await startWasmProxy(path, (config) => {
      config.hotReload = true;
    });
    try {
      assert.equal((await http1Request(`${proxy.url}/`)).status, 503);
      writeFileSync(path, HELLO_FILTER);
      await until(() => logs.lines.some((line) => line.includes(`reloaded ${path}`)));
      const response = await http1Request(`${proxy.url}/`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.hello, "world!");
      const stats = await (await fetch(`${proxy.adminUrl}/stats?filter=hot_reload`)).text();
      assert.equal(stats, "wasm.my_plugin.hot_reload: 1\n");
    } finally {
      await proxy.close();
    }
  });

  it("a stream in flight finishes on the old VM while new streams use the new one", async () => {
    let releaseAuth!: () => void;
    const authCalled = new Promise<void>((resolve) => {
      releaseAuth = resolve;
    });
    let holding: (() => void) | undefined;
    const auth = await startUpstream((_req, res) => {
      holding = () => res.end("ok");
      releaseAuth();
    });
    const path = write("swap.wasm", CALLOUT_FILTER);
    const { proxy, logs } = await startWasmProxy(path, (config) => {
      config.hotReload = true;
      config.clusters.push(clusterFromUrl("auth", auth.url, "test"));
    });
    try {
      const inFlight = http1Request(`${proxy.url}/old`);
      await authCalled;
      writeFileSync(path, HELLO_FILTER);
      await until(() => logs.lines.some((line) => line.includes(`reloaded ${path}`)), "the reload");
      const fresh = await http1Request(`${proxy.url}/new`);
      assert.equal(fresh.headers.hello, "world!");
      holding!();
      const old = await inFlight;
      assert.equal(old.status, 200);
      assert.equal(old.headers.hello, undefined);
      assert.equal((JSON.parse(old.body) as { path: string }).path, "/old");
    } finally {
      await proxy.close();
      await auth.close();
    }
  });

  it("a broken rebuild is rejected and the running module keeps serving", async () => {
    const path = write("keep.wasm", HELLO_FILTER);
    const { proxy, logs } = await startWasmProxy(path, (config) => {
      config.hotReload = true;
    });
    try {
      writeFileSync(path, "not wasm at all");
      await until(() => logs.lines.some((line) => line.includes(`hot reload of ${path} rejected`)));
      const response = await http1Request(`${proxy.url}/`);
      assert.equal(response.headers.hello, "world!");
    } finally {
      await proxy.close();
    }
  });
});
