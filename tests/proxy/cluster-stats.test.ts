import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createH2Server, type Http2Server } from "node:http2";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defaultConfig } from "../../src/proxy/config/dev-proxy-config";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { startDevProxy } from "../../src/proxy/dev-proxy";
import { buildWasmFilters } from "../../src/proxy/filters/wasm-filters";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { http1Request, LogCapture, startTestProxy, startUpstream } from "./proxy-test-helpers";
import { CALLOUT_FILTER } from "./wat-filters";

const dir = mkdtempSync(join(tmpdir(), "pwas-cluster-stats-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An h2c upstream answering each stream with `answer`'s status and body `ok` (a stream it leaves open never ends). */
async function startH2Upstream(answer: (path: string) => number | undefined): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Http2Server = createH2Server();
  server.on("stream", (stream, headers) => {
    stream.resume();
    const status = answer(String(headers[":path"]));
    if (status === undefined) return;
    stream.respond({ ":status": status });
    stream.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function clusterStats(adminUrl: string, cluster: string): Promise<string[]> {
  const text = await (await fetch(`${adminUrl}/stats?filter=${encodeURIComponent(`^cluster\\.${cluster}\\.`)}`)).text();
  return text.split("\n").filter((line) => line !== "");
}

describe("cluster stats under Envoy's names", () => {
  it("routed traffic: per-code, per-class, completed and external counts, connections, timeouts and connect failures", async () => {
    let status = 201;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === "/slow") return; // never answers: the route timeout does
      res.writeHead(status);
      res.end();
    });
    const down = await closedPort();
    const { proxy } = await startTestProxy([], (config) => {
      config.echoUpstream = false;
      config.clusters.push(clusterFromUrl("web", upstream.url, "test"), clusterFromUrl("down", `http://127.0.0.1:${down}`, "test"));
      config.routes = [
        { prefix: "/slow", cluster: "web", timeoutMs: 200 },
        { prefix: "/down", cluster: "down", timeoutMs: 15_000 },
        { prefix: "/", cluster: "web", timeoutMs: 15_000 },
      ];
    });
    try {
      assert.equal((await http1Request(`${proxy.url}/a`)).status, 201);
      status = 404;
      assert.equal((await http1Request(`${proxy.url}/b`)).status, 404);
      assert.equal((await http1Request(`${proxy.url}/slow`)).status, 504);
      assert.equal((await http1Request(`${proxy.url}/down`)).status, 503);
      const web = await clusterStats(proxy.adminUrl!, "web");
      // The connection the timed-out request used is dropped; how many connections the pool
      // opened for the three requests depends on timing, so cx counts are checked apart.
      assert.deepEqual(web.filter((line) => !line.includes("upstream_cx_")), [
        "cluster.web.external.upstream_rq_201: 1",
        "cluster.web.external.upstream_rq_2xx: 1",
        "cluster.web.external.upstream_rq_404: 1",
        "cluster.web.external.upstream_rq_4xx: 1",
        "cluster.web.external.upstream_rq_504: 1",
        "cluster.web.external.upstream_rq_5xx: 1",
        "cluster.web.external.upstream_rq_completed: 3",
        "cluster.web.upstream_rq_201: 1",
        "cluster.web.upstream_rq_2xx: 1",
        "cluster.web.upstream_rq_404: 1",
        "cluster.web.upstream_rq_4xx: 1",
        "cluster.web.upstream_rq_504: 1",
        "cluster.web.upstream_rq_5xx: 1",
        "cluster.web.upstream_rq_completed: 3",
        "cluster.web.upstream_rq_timeout: 1",
        "cluster.web.upstream_rq_total: 3",
      ]);
      const total = Number(/^cluster\.web\.upstream_cx_total: (\d+)$/m.exec(web.join("\n"))?.[1]);
      assert.ok(total >= 1 && total <= 3, `upstream_cx_total ${total}`);
      assert.deepEqual(await clusterStats(proxy.adminUrl!, "down"), [
        "cluster.down.external.upstream_rq_503: 1",
        "cluster.down.external.upstream_rq_5xx: 1",
        "cluster.down.external.upstream_rq_completed: 1",
        "cluster.down.upstream_cx_active: 0",
        "cluster.down.upstream_cx_connect_fail: 1",
        // A close while connecting (conn_pool_base.cc onConnectionEvent): the connection is
        // destroyed by the remote and the pending request ejected.
        "cluster.down.upstream_cx_destroy: 1",
        "cluster.down.upstream_cx_destroy_remote: 1",
        "cluster.down.upstream_cx_total: 1",
        "cluster.down.upstream_rq_503: 1",
        "cluster.down.upstream_rq_5xx: 1",
        "cluster.down.upstream_rq_completed: 1",
        "cluster.down.upstream_rq_pending_failure_eject: 1",
        "cluster.down.upstream_rq_total: 1",
      ]);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  for (const concurrency of [1, 2]) {
    it(`HTTP callouts count under the callout's cluster as internal requests (concurrency ${concurrency})`, async () => {
      const auth = await startUpstream((_req, res) => res.end("ok"));
      const config = defaultConfig();
      config.listener.port = 0;
      config.admin = { host: "127.0.0.1", port: 0 };
      config.concurrency = concurrency;
      config.clusters.push(clusterFromUrl("auth", auth.url, "test"));
      const wasmPath = join(dir, `callout-${concurrency}.wasm`);
      writeFileSync(wasmPath, CALLOUT_FILTER);
      config.filters = [
        {
          name: "callout",
          rootId: "",
          vmId: "",
          wasmPath,
          pluginConfiguration: Buffer.alloc(0),
          vmConfiguration: Buffer.alloc(0),
          failurePolicy: "FAIL_CLOSED",
          allowOnHeadersStopIteration: false,
        },
      ];
      const proxy = await startDevProxy(config, {
        logger: new ProxyLogger({ level: "info", output: new LogCapture(), colour: false }),
        buildFilters: buildWasmFilters,
      });
      try {
        assert.equal((await http1Request(`${proxy.url}/one`)).status, 200);
        assert.equal((await http1Request(`${proxy.url}/two`)).status, 200);
        const stats = await clusterStats(proxy.adminUrl!, "auth");
        assert.deepEqual(
          stats.filter((line) => !line.includes("upstream_cx_")),
          [
            "cluster.auth.internal.upstream_rq_200: 2",
            "cluster.auth.internal.upstream_rq_2xx: 2",
            "cluster.auth.internal.upstream_rq_completed: 2",
            "cluster.auth.upstream_rq_200: 2",
            "cluster.auth.upstream_rq_2xx: 2",
            "cluster.auth.upstream_rq_completed: 2",
            "cluster.auth.upstream_rq_total: 2",
          ],
        );
        assert.match(stats.join("\n"), /^cluster\.auth\.upstream_cx_total: [12]$/m);
      } finally {
        await proxy.close();
        await auth.close();
      }
    });
  }

  it("routed traffic to HTTP/2 clusters: codes, timeouts, one connection per session and one connect failure per failed session", async () => {
    const upstream = await startH2Upstream((path) => (path === "/slow" ? undefined : path === "/missing" ? 404 : 200));
    const down = await closedPort();
    const { proxy } = await startTestProxy([], (config) => {
      config.echoUpstream = false;
      const web = clusterFromUrl("web2", upstream.url, "test");
      web.http2 = true;
      const gone = clusterFromUrl("down2", `http://127.0.0.1:${down}`, "test");
      gone.http2 = true;
      config.clusters.push(web, gone);
      config.routes = [
        { prefix: "/slow", cluster: "web2", timeoutMs: 200 },
        { prefix: "/down", cluster: "down2", timeoutMs: 15_000 },
        { prefix: "/", cluster: "web2", timeoutMs: 15_000 },
      ];
    });
    try {
      assert.equal((await http1Request(`${proxy.url}/a`)).status, 200);
      assert.equal((await http1Request(`${proxy.url}/missing`)).status, 404);
      assert.equal((await http1Request(`${proxy.url}/slow`)).status, 504);
      assert.equal((await http1Request(`${proxy.url}/down`)).status, 503);
      assert.deepEqual(await clusterStats(proxy.adminUrl!, "web2"), [
        "cluster.web2.external.upstream_rq_200: 1",
        "cluster.web2.external.upstream_rq_2xx: 1",
        "cluster.web2.external.upstream_rq_404: 1",
        "cluster.web2.external.upstream_rq_4xx: 1",
        "cluster.web2.external.upstream_rq_504: 1",
        "cluster.web2.external.upstream_rq_5xx: 1",
        "cluster.web2.external.upstream_rq_completed: 3",
        // All three streams share the cluster's one session (a cancelled stream leaves it open).
        "cluster.web2.upstream_cx_active: 1",
        "cluster.web2.upstream_cx_total: 1",
        "cluster.web2.upstream_rq_200: 1",
        "cluster.web2.upstream_rq_2xx: 1",
        "cluster.web2.upstream_rq_404: 1",
        "cluster.web2.upstream_rq_4xx: 1",
        "cluster.web2.upstream_rq_504: 1",
        "cluster.web2.upstream_rq_5xx: 1",
        "cluster.web2.upstream_rq_completed: 3",
        "cluster.web2.upstream_rq_timeout: 1",
        "cluster.web2.upstream_rq_total: 3",
      ]);
      assert.deepEqual(await clusterStats(proxy.adminUrl!, "down2"), [
        "cluster.down2.external.upstream_rq_503: 1",
        "cluster.down2.external.upstream_rq_5xx: 1",
        "cluster.down2.external.upstream_rq_completed: 1",
        "cluster.down2.upstream_cx_active: 0",
        // The session's connection stats once (as over HTTP/1.1), the pending request ejected.
        "cluster.down2.upstream_cx_connect_fail: 1",
        "cluster.down2.upstream_cx_destroy: 1",
        "cluster.down2.upstream_cx_destroy_remote: 1",
        "cluster.down2.upstream_cx_total: 1",
        "cluster.down2.upstream_rq_503: 1",
        "cluster.down2.upstream_rq_5xx: 1",
        "cluster.down2.upstream_rq_completed: 1",
        "cluster.down2.upstream_rq_pending_failure_eject: 1",
        "cluster.down2.upstream_rq_total: 1",
      ]);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("HTTP callouts to an HTTP/2 cluster count as internal requests on the cluster's session", async () => {
    const auth = await startH2Upstream(() => 200);
    const config = defaultConfig();
    config.listener.port = 0;
    config.admin = { host: "127.0.0.1", port: 0 };
    const cluster = clusterFromUrl("auth", auth.url, "test");
    cluster.http2 = true;
    config.clusters.push(cluster);
    const wasmPath = join(dir, "callout-h2.wasm");
    writeFileSync(wasmPath, CALLOUT_FILTER);
    config.filters = [
      {
        name: "callout",
        rootId: "",
        vmId: "",
        wasmPath,
        pluginConfiguration: Buffer.alloc(0),
        vmConfiguration: Buffer.alloc(0),
        failurePolicy: "FAIL_CLOSED",
        allowOnHeadersStopIteration: false,
      },
    ];
    const proxy = await startDevProxy(config, {
      logger: new ProxyLogger({ level: "info", output: new LogCapture(), colour: false }),
      buildFilters: buildWasmFilters,
    });
    try {
      assert.equal((await http1Request(`${proxy.url}/one`)).status, 200);
      assert.equal((await http1Request(`${proxy.url}/two`)).status, 200);
      assert.deepEqual(await clusterStats(proxy.adminUrl!, "auth"), [
        "cluster.auth.internal.upstream_rq_200: 2",
        "cluster.auth.internal.upstream_rq_2xx: 2",
        "cluster.auth.internal.upstream_rq_completed: 2",
        "cluster.auth.upstream_cx_active: 1",
        "cluster.auth.upstream_cx_total: 1",
        "cluster.auth.upstream_rq_200: 2",
        "cluster.auth.upstream_rq_2xx: 2",
        "cluster.auth.upstream_rq_completed: 2",
        "cluster.auth.upstream_rq_total: 2",
      ]);
    } finally {
      await proxy.close();
      await auth.close();
    }
  });
});
