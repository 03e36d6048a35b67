/**
 * Upstream resets before response headers, named as Envoy names them (issue #12): the reason from
 * `Http::Utility::resetReasonToString` (envoy source/common/http/utility.cc), the body and details
 * from `Filter::onUpstreamReset` (envoy source/common/router/router.cc), the stats from the
 * connection pool and codec client (envoy source/common/conn_pool/conn_pool_base.cc,
 * source/common/http/codec_client.cc). Here against real sockets and through HTTP callouts.
 */
import assert from "node:assert/strict";
import { request, type ClientRequest } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import type { GrpcCallout, HttpCallout, HttpCalloutResponse } from "../../src/host/callouts";
import { HeaderMap } from "../../src/host/header-map";
import { ClusterCalloutUpstream } from "../../src/proxy/callout-upstream";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";
import { ProxyLogger } from "../../src/proxy/proxy-logger";
import { classifyUpstreamError, trackConnection, upstreamResetReply, type UpstreamReset } from "../../src/proxy/upstream-reset";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_ACCESS_LOG_FORMAT } from "../../src/proxy/access-log/access-log-format";
import { http1Request, LogCapture, startTestProxy, until } from "./proxy-test-helpers";

/** Servers: one that is closed (refuses), one that resets on the first bytes, one that answers SSH. */
let refusedUrl = "";
let resetUrl = "";
let garbageUrl = "";
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  const closed = createTcpServer();
  refusedUrl = await new Promise<string>((resolve) =>
    closed.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      closed.close(() => resolve(url));
    }),
  );
  resetUrl = await listen(
    createTcpServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.resetAndDestroy());
    }),
  );
  garbageUrl = await listen(createTcpServer((socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n\r\n")));
});

after(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The reset a node:http GET to `url` ends with. */
function resetOf(url: string): Promise<UpstreamReset> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, { agent: false });
    const connected = trackConnection(req);
    req.on("response", () => reject(new Error("unexpected response")));
    req.on("error", (error) => resolve(classifyUpstreamError(error, connected())));
    req.end();
  });
}

describe("classifying upstream errors as Envoy's reset reasons", () => {
  it("a refused connection: remote connection failure with the transport reason, 503, connect-failure stats", async () => {
    const reset = await resetOf(refusedUrl);
    const reply = upstreamResetReply(reset);
    assert.equal(reply.status, 503);
    assert.equal(
      reply.body.toString(),
      "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
    );
    assert.equal(reply.details, "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}");
    assert.deepEqual(reset.stats, ["upstream_cx_connect_fail", "upstream_cx_destroy", "upstream_cx_destroy_remote", "upstream_rq_pending_failure_eject"]);
  });

  it("an RST once connected: connection termination, 503, destroy-with-active-request stats", async () => {
    const reset = await resetOf(resetUrl);
    const reply = upstreamResetReply(reset);
    assert.equal(reply.status, 503);
    assert.equal(reply.body.toString(), "upstream connect error or disconnect/reset before headers. reset reason: connection termination");
    assert.equal(reply.details, "upstream_reset_before_response_started{connection_termination}");
    assert.deepEqual(reset.stats, ["upstream_cx_destroy", "upstream_cx_destroy_remote", "upstream_cx_destroy_with_active_rq", "upstream_cx_destroy_remote_with_active_rq"]);
  });

  it("bytes that are not HTTP: protocol error, 502, protocol-error stats", async () => {
    const reset = await resetOf(garbageUrl);
    const reply = upstreamResetReply(reset);
    assert.equal(reply.status, 502);
    assert.equal(reply.body.toString(), "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
    assert.equal(reply.details, "upstream_reset_before_response_started{protocol_error}");
    assert.deepEqual(reset.stats, ["upstream_cx_protocol_error", "upstream_cx_destroy", "upstream_cx_destroy_local", "upstream_cx_destroy_with_active_rq", "upstream_cx_destroy_local_with_active_rq"]);
  });

  it("a connect error without a known strerror text names its code", () => {
    const error = Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" });
    assert.equal(classifyUpstreamError(error, false).transportFailure, "delayed connect error: ENOTFOUND");
  });
});

/** Sends one HTTP callout to `url` through the callout cluster client; resolves with its answer. */
function callout(url: string, http2 = false): Promise<HttpCalloutResponse> {
  const cluster = clusterFromUrl("auth", url, "test");
  cluster.http2 = http2;
  const upstream = new ClusterCalloutUpstream(new Map([["auth", cluster]]), new ProxyLogger({ level: "info", output: new LogCapture(), colour: false }));
  return new Promise((resolve, reject) => {
    const headers = HeaderMap.from([[":method", "GET"], [":path", "/check"], [":authority", "auth"]]);
    let settled = false;
    const call: HttpCallout = {
      kind: "http",
      token: 1,
      cluster: "auth",
      headers,
      body: new Uint8Array(0),
      trailers: new HeaderMap(),
      timeoutMs: 5000,
      respond: (response) => {
        settled = true;
        resolve(response);
      },
      fail: () => reject(new Error("failed instead of answered")),
      get settled() {
        return settled;
      },
    };
    upstream.dispatch(call);
  });
}

describe("HTTP callouts get the router's answer for each reset", () => {
  const answersOf = async (http2: boolean): Promise<void> => {
    const answers = [];
    for (const url of [refusedUrl, resetUrl, garbageUrl]) {
      const response = await callout(url, http2);
      answers.push(`${response.headers.getString(":status")} ${Buffer.from(response.body).toString()}`);
    }
    assert.deepEqual(answers, [
      "503 upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
      "503 upstream connect error or disconnect/reset before headers. reset reason: connection termination",
      "502 upstream connect error or disconnect/reset before headers. reset reason: protocol error",
    ]);
  };
  it("refused, terminated, not HTTP: 503, 503 and 502 with Envoy's texts", () => answersOf(false));
  it("to an HTTP/2 cluster: refused, terminated, not HTTP/2: the same answers", () => answersOf(true));
});

/** Makes one unary gRPC call to `url` through the callout cluster client; resolves with how it closed. */
function grpcCall(url: string): Promise<string> {
  const cluster = clusterFromUrl("grpc", url, "test");
  cluster.http2 = true;
  const upstream = new ClusterCalloutUpstream(new Map([["grpc", cluster]]), new ProxyLogger({ level: "info", output: new LogCapture(), colour: false }));
  return new Promise((resolve) => {
    let settled = false;
    const call: GrpcCallout = {
      kind: "grpc-call",
      token: 1,
      cluster: "grpc",
      serviceName: "pkg.Auth",
      methodName: "Check",
      initialMetadata: new HeaderMap(),
      messages: [new TextEncoder().encode("ping")],
      timeoutMs: 5000,
      localClosed: true,
      cancelled: false,
      receive: () => resolve("received a message"),
      receiveInitialMetadata: () => {},
      receiveTrailingMetadata: () => {},
      close: (status, message) => {
        settled = true;
        resolve(`${status} ${message ?? ""}`);
      },
      get settled() {
        return settled;
      },
    };
    upstream.dispatch(call);
  }).finally(() => undefined) as Promise<string>;
}

describe("gRPC callouts get the router's reset text as their UNAVAILABLE message", () => {
  it("refused: 14 with `remote connection failure`; reset once connected: 14 with `connection termination`", async () => {
    assert.equal(
      await grpcCall(refusedUrl),
      "14 upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
    );
    assert.equal(await grpcCall(resetUrl), "14 upstream connect error or disconnect/reset before headers. reset reason: connection termination");
  });
});

describe("through the dev proxy: statuses, bodies and the access log's response flags", () => {
  const routedThrough = async (http2: boolean): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), "pwas-upstream-reset-"));
    const path = join(dir, "access.log");
    const { proxy } = await startTestProxy([], (config) => {
      config.echoUpstream = false;
      for (const [name, url] of [["refused", refusedUrl], ["reset", resetUrl], ["garbage", garbageUrl]]) {
        const cluster = clusterFromUrl(name, url, "test");
        cluster.http2 = http2;
        config.clusters.push(cluster);
        config.routes.unshift({ prefix: `/${name}`, cluster: name, timeoutMs: 15_000 });
      }
      config.accessLogs = [{ path, format: DEFAULT_ACCESS_LOG_FORMAT }];
    });
    try {
      const answers = [];
      for (const name of ["refused", "reset", "garbage"]) {
        const response = await http1Request(`${proxy.url}/${name}`);
        answers.push(`${response.status} ${response.body}`);
      }
      assert.deepEqual(answers, [
        "503 upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
        "503 upstream connect error or disconnect/reset before headers. reset reason: connection termination",
        "502 upstream connect error or disconnect/reset before headers. reset reason: protocol error",
      ]);
      const lines = (): string[] => {
        try {
          return readFileSync(path, "utf8").split("\n").filter((line) => line !== "");
        } catch {
          return [];
        }
      };
      await until(() => lines().length >= 3, "3 access log lines");
      const flags = lines().map((line) => / HTTP\/1\.1" (\d+) (\S+) /.exec(line)?.slice(1).join(" "));
      assert.deepEqual(flags, ["503 UF", "503 UC", "502 UPE"]);
      // The pool's and codec client's stats, the same over HTTP/1.1 and HTTP/2 (one connection each).
      const stats = (await (await fetch(`${proxy.adminUrl!}/stats?filter=${encodeURIComponent("^cluster\\.(refused|reset|garbage)\\.upstream_(cx_(connect_fail|destroy|protocol_error)|rq_pending)")}`)).text()).split("\n").filter((line) => line !== "");
      assert.deepEqual(stats, [
        "cluster.garbage.upstream_cx_destroy: 1",
        "cluster.garbage.upstream_cx_destroy_local: 1",
        "cluster.garbage.upstream_cx_destroy_local_with_active_rq: 1",
        "cluster.garbage.upstream_cx_destroy_with_active_rq: 1",
        "cluster.garbage.upstream_cx_protocol_error: 1",
        "cluster.refused.upstream_cx_connect_fail: 1",
        "cluster.refused.upstream_cx_destroy: 1",
        "cluster.refused.upstream_cx_destroy_remote: 1",
        "cluster.refused.upstream_rq_pending_failure_eject: 1",
        "cluster.reset.upstream_cx_destroy: 1",
        "cluster.reset.upstream_cx_destroy_remote: 1",
        "cluster.reset.upstream_cx_destroy_remote_with_active_rq: 1",
        "cluster.reset.upstream_cx_destroy_with_active_rq: 1",
      ]);
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  it("refused, terminated, not HTTP: 503 UF, 503 UC, 502 UPE", () => routedThrough(false));
  it("HTTP/2 clusters refused, terminated, not HTTP/2: 503 UF, 503 UC, 502 UPE", () => routedThrough(true));
});
