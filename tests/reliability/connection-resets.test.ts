// Faults of class "client": TCP resets (RST) at every stage of a connection, a few hundred of
// each, against the dev proxy's listener and its admin port. Envoy closes such a connection as
// RemoteClose and nothing else (envoy source/common/network/connection_impl.cc onReadReady ->
// closeSocket(ConnectionEvent::RemoteClose)); its connection manager counts it
// (envoy source/common/http/conn_manager_impl.cc ConnectionManagerImpl::onEvent:
// downstream_cx_destroy_remote). Before the fix, a socket reset before its first byte had no
// error listener (the codec was not chosen yet) and the process died of the ECONNRESET.
import assert from "node:assert/strict";
import { connect as connectH2 } from "node:http2";
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { describe, it } from "node:test";
import type { DevProxy } from "../../src/proxy/dev-proxy";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { http1Request, startTestProxy, startUpstream, startWasmTestProxy, until, useUpstream } from "../proxy/proxy-test-helpers";
import { CALLOUT_FILTER, GRPC_FILTER } from "../proxy/wat-filters";

/** Resets per scenario, and how many connections are open at once. */
const RESETS = 200;
const PARALLEL = 20;

/**
 * Connects to `url`'s port, lets `before` write (and wait for) what it wants, then resets the
 * connection (RST, `resetAndDestroy`). Resolves once the client socket closed.
 */
function connectAndReset(url: string, before: (socket: Socket) => Promise<void>): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.on("error", () => {});
    socket.on("close", () => resolve());
    socket.on("connect", () => {
      before(socket).then(
        () => socket.resetAndDestroy(),
        () => socket.resetAndDestroy(),
      );
    });
  });
}

/** Writes `bytes` and waits until they are handed to the kernel. */
const writing = (bytes: string) => (socket: Socket) =>
  new Promise<void>((resolve) => socket.write(bytes, () => resolve()));

/** `RESETS` connections, `PARALLEL` at a time, each reset after `before`. */
async function resetMany(url: string, before: (socket: Socket) => Promise<void>): Promise<void> {
  for (let done = 0; done < RESETS; done += PARALLEL) {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, RESETS - done) }, () => connectAndReset(url, before)));
  }
}

function counter(proxy: DevProxy, name: string): number {
  return proxy.stats.snapshot().find((sample) => sample.name === name)?.value ?? 0;
}

/**
 * Every reset connection was closed as RemoteClose (`activeStreams` of them with a stream still
 * open, when given), and a clean request is still answered.
 */
async function assertResetsCountedAndStillServing(proxy: DevProxy, activeStreams?: number): Promise<void> {
  await until(() => counter(proxy, "http.ingress_http.downstream_cx_destroy_remote") === RESETS, `${RESETS} remote closes`);
  assert.equal(counter(proxy, "http.ingress_http.downstream_cx_total"), RESETS);
  assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy"), RESETS);
  assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_local"), 0);
  assert.equal(counter(proxy, "http.ingress_http.downstream_cx_active"), 0);
  if (activeStreams !== undefined) {
    // conn_manager_impl.cc onEvent: streams still open when the connection closed.
    assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_remote_active_rq"), activeStreams);
    assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_active_rq"), activeStreams);
    assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_local_active_rq"), 0);
  }
  const response = await http1Request(`${proxy.url}/after`);
  assert.equal(response.status, 200);
  assert.equal((JSON.parse(response.body) as { path: string }).path, "/after");
}

describe("TCP resets from clients (dev proxy listener)", () => {
  it("200 resets before the first byte: each is a remote close, the proxy keeps serving", async () => {
    const { proxy } = await startTestProxy();
    try {
      await resetMany(proxy.url, async () => {});
      await assertResetsCountedAndStillServing(proxy, 0);
    } finally {
      await proxy.close();
    }
  });

  it("200 resets after a partial HTTP/1.1 request line", async () => {
    const { proxy } = await startTestProxy();
    try {
      await resetMany(proxy.url, writing("GET /pa"));
      await assertResetsCountedAndStillServing(proxy, 0);
    } finally {
      await proxy.close();
    }
  });

  it("200 resets after a partial HTTP/2 connection preface", async () => {
    const { proxy } = await startTestProxy();
    try {
      await resetMany(proxy.url, writing("PRI * HTTP/2.0\r\n"));
      await assertResetsCountedAndStillServing(proxy, 0);
    } finally {
      await proxy.close();
    }
  });

  it("200 resets in the middle of an HTTP/1.1 request body (the request reached the upstream)", async () => {
    const started = new Set<string>();
    const upstream = await startUpstream((req, res) => {
      started.add(req.url ?? "");
      req.on("error", () => {});
      req.resume();
      req.on("end", () => res.end(JSON.stringify({ path: req.url })));
    });
    const { proxy } = await startTestProxy([], useUpstream(upstream.url));
    try {
      let next = 0;
      await resetMany(proxy.url, async (socket) => {
        const path = `/upload/${next++}`;
        await writing(`POST ${path} HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nfirst bytes`)(socket);
        // Reset only once the proxy opened the upstream request, so the reset meets a live stream.
        await until(() => started.has(path), `the upstream request ${path}`);
      });
      await assertResetsCountedAndStillServing(proxy, RESETS);
      assert.equal(started.size, RESETS + 1);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("200 resets in the middle of a response the proxy is still writing", async () => {
    const upstream = await startUpstream((req, res) => {
      res.on("error", () => {});
      req.resume();
      if (req.url === "/after") return void res.end(JSON.stringify({ path: "/after" }));
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first chunk ");
      // The rest arrives while (or after) the client resets.
      setTimeout(() => res.end("and the rest"), 20);
    });
    const { proxy } = await startTestProxy([], useUpstream(upstream.url));
    try {
      await resetMany(proxy.url, (socket) => {
        socket.write("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n");
        return new Promise<void>((resolve) => socket.once("data", () => resolve()));
      });
      await assertResetsCountedAndStillServing(proxy);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("200 HTTP/2 connections reset with a request body in flight", async () => {
    const { proxy } = await startTestProxy();
    try {
      await resetMany(proxy.url, (socket) => {
        const session = connectH2(proxy.url, { createConnection: () => socket });
        session.on("error", () => {});
        const stream = session.request({ ":method": "POST", ":path": "/h2-upload" });
        stream.on("error", () => {});
        stream.write("part of a body");
        return new Promise<void>((resolve) => session.once("remoteSettings", () => setImmediate(resolve)));
      });
      await assertResetsCountedAndStillServing(proxy);
    } finally {
      await proxy.close();
    }
  });
});

describe("TCP resets from clients (admin port)", () => {
  it("200 resets before the first byte and 200 after a partial request: /ready still answers", async () => {
    const { proxy } = await startTestProxy();
    try {
      const admin = proxy.adminUrl!;
      await resetMany(admin, async () => {});
      await resetMany(admin, writing("GET /sta"));
      const ready = await fetch(`${admin}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(await ready.text(), "LIVE\n");
    } finally {
      await proxy.close();
    }
  });
});

/** A TCP server that resets (RST) every connection once its first bytes arrive; counts them. */
async function startResettingServer(): Promise<{ url: string; resets: () => number; close(): Promise<void> }> {
  let resets = 0;
  const server = createTcpServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      resets++;
      socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    resets: () => resets,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `count` requests to `url`, `parallel` at a time; their statuses and bodies, in order. */
async function requestMany(url: string, count: number, parallel: number): Promise<string[]> {
  const answers: string[] = [];
  for (let done = 0; done < count; done += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - done) }, () => http1Request(url));
    for (const response of await Promise.all(batch)) answers.push(`${response.status} ${response.body}`);
  }
  return answers;
}

const UPSTREAM_RESETS = 60;

describe("TCP resets from upstreams and callout clusters", () => {
  it("an upstream that resets every connection: 60 requests get 503 before headers, the proxy keeps serving", async () => {
    const resetting = await startResettingServer();
    const { proxy } = await startTestProxy([], useUpstream(resetting.url));
    try {
      const answers = await requestMany(`${proxy.url}/to-reset`, UPSTREAM_RESETS, PARALLEL);
      assert.equal(answers.length, UPSTREAM_RESETS);
      // The connection was up when the RST came: codec_client.cc onEvent resets the request with
      // ConnectionTermination, and no connect failure is counted.
      for (const answer of answers) assert.equal(answer, "503 upstream connect error or disconnect/reset before headers. reset reason: connection termination");
      assert.equal(resetting.resets(), UPSTREAM_RESETS);
      const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
      assert.match(stats, new RegExp(`^cluster\\.upstream\\.upstream_cx_destroy_remote_with_active_rq: ${UPSTREAM_RESETS}$`, "m"));
      assert.doesNotMatch(stats, /upstream_cx_connect_fail/);
    } finally {
      await proxy.close();
      await resetting.close();
    }
  });

  it("an HTTP callout cluster that resets every connection: 60 callouts are each answered (Envoy's 503 with a body: the filter continues)", async () => {
    const resetting = await startResettingServer();
    const { proxy } = await startWasmTestProxy(CALLOUT_FILTER, (config) => {
      config.clusters.push(clusterFromUrl("auth", resetting.url, "test"));
    });
    try {
      // One at a time: the fixture filter remembers one paused stream only.
      const answers = await requestMany(`${proxy.url}/guarded`, UPSTREAM_RESETS, 1);
      // CALLOUT_FILTER lets the request continue on an answer with a body of 2+ bytes: the 503's text.
      for (const answer of answers) assert.equal(answer.startsWith("200 "), true, answer);
      assert.equal(resetting.resets(), UPSTREAM_RESETS);
    } finally {
      await proxy.close();
      await resetting.close();
    }
  });

  it("a gRPC cluster that resets every connection: 60 calls each close with an error status (the filter answers 403)", async () => {
    const resetting = await startResettingServer();
    const { proxy } = await startWasmTestProxy(GRPC_FILTER, (config) => {
      const cluster = clusterFromUrl("grpc", resetting.url, "test");
      cluster.http2 = true;
      config.clusters.push(cluster);
    });
    try {
      // One at a time: the fixture filter remembers one paused stream only.
      const answers = await requestMany(`${proxy.url}/guarded`, UPSTREAM_RESETS, 1);
      assert.deepEqual(new Set(answers), new Set(["403 denied"]));
      assert.equal(answers.length, UPSTREAM_RESETS);
      assert.ok(resetting.resets() >= 1);
    } finally {
      await proxy.close();
      await resetting.close();
    }
  });
});

describe("connections closed under open streams (dev proxy listener)", () => {
  it("the proxy closing a connection under an open stream (a codec error in a pipelined request) counts downstream_cx_destroy_local_active_rq; downstream_cx_active follows open connections", async () => {
    let release: () => void = () => {};
    const upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === "/slow") release = () => res.end("late");
      else res.end(JSON.stringify({ path: req.url }));
    });
    const { proxy } = await startTestProxy([], useUpstream(upstream.url));
    const { hostname, port } = new URL(proxy.url);
    const open: Socket[] = [];
    try {
      // Two idle keep-alive connections, each after one answered request: active, no stream open.
      for (let i = 0; i < 2; i++) {
        const socket = connect(Number(port), hostname);
        socket.on("error", () => {});
        open.push(socket);
        await new Promise<void>((resolve) => {
          socket.once("data", () => resolve());
          socket.write(`GET /idle/${i} HTTP/1.1\r\nHost: h\r\n\r\n`);
        });
      }
      assert.equal(counter(proxy, "http.ingress_http.downstream_cx_active"), 2);
      // A third sends a request the upstream holds, then bytes no HTTP/1 parser accepts.
      const broken = connect(Number(port), hostname);
      broken.on("error", () => {});
      broken.resume();
      const closed = new Promise<void>((resolve) => broken.on("close", () => resolve()));
      broken.write("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n\x01\x02 not http\r\n\r\n");
      await closed;
      await until(() => counter(proxy, "http.ingress_http.downstream_cx_destroy") === 1, "the broken connection's close");
      assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_local"), 1);
      assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_local_active_rq"), 1);
      assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_active_rq"), 1);
      assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_remote_active_rq"), 0);
      assert.equal(counter(proxy, "http.ingress_http.downstream_cx_active"), 2);
      // The idle ones close with no stream open: no _active_rq.
      for (const socket of open) socket.end();
      await until(() => counter(proxy, "http.ingress_http.downstream_cx_active") === 0, "every connection closed");
      assert.equal(counter(proxy, "http.ingress_http.downstream_cx_destroy_active_rq"), 1);
    } finally {
      release();
      for (const socket of open) socket.destroy();
      await proxy.close();
      await upstream.close();
    }
  });
});
