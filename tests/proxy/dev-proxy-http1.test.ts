import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import type { EchoReply } from "../../src/proxy/echo-upstream";
import { http1Request, startTestProxy, startUpstream, until, useUpstream } from "./proxy-test-helpers";
import { localReplyFilter, recordingFilter, type FilterEvent } from "./test-filters";

describe("dev proxy over HTTP/1.1, echo upstream", () => {
  const events: FilterEvent[] = [];
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  before(async () => {
    ({ proxy } = await startTestProxy([
      recordingFilter(events, { responseHeaders: (headers) => [...headers, ["hello", "world!"]] }),
    ]));
  });
  after(() => proxy.close());

  it("forwards a GET through the filter to the echo upstream and back", async () => {
    events.length = 0;
    const response = await http1Request(`${proxy.url}/some/path?q=1`, { headers: { "x-custom": "a" } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.hello, "world!");
    assert.equal(response.headers.server, "envoy");
    assert.equal(response.headers["content-type"], "application/json");
    const echo = JSON.parse(response.body) as EchoReply;
    assert.equal(echo.method, "GET");
    assert.equal(echo.path, "/some/path?q=1");
    assert.equal(echo.body, "");
    assert.equal(echo.headers["x-custom"], "a");
    assert.equal(echo.headers["x-forwarded-proto"], "http");
    assert.equal(echo.headers["x-envoy-expected-rq-timeout-ms"], "15000");
    assert.equal(echo.headers.host, new URL(proxy.url).host);
    assert.match(echo.headers["x-request-id"], /^[0-9a-f-]{36}$/);

    const first = events[0];
    assert.equal(first.kind, "requestHeaders");
    assert.ok(first.kind === "requestHeaders");
    assert.equal(first.endOfStream, true);
    assert.deepEqual(first.headers.slice(0, 4), [
      [":authority", new URL(proxy.url).host],
      [":path", "/some/path?q=1"],
      [":method", "GET"],
      [":scheme", "http"],
    ]);
    assert.deepEqual(
      events.map((event) => event.kind),
      ["requestHeaders", "responseHeaders", "responseBody", "finish"],
    );
    const responseHeaders = events[1];
    assert.ok(responseHeaders.kind === "responseHeaders");
    assert.deepEqual(responseHeaders.headers[0], [":status", "200"]);
    const responseBody = events[2];
    assert.ok(responseBody.kind === "responseBody");
    assert.equal(responseBody.endOfStream, true);
  });

  it("delivers a content-length body as one chunk that ends the stream", async () => {
    events.length = 0;
    const response = await http1Request(`${proxy.url}/post`, {
      method: "POST",
      headers: { "content-length": "11" },
      body: ["hello world"],
    });
    assert.equal((JSON.parse(response.body) as EchoReply).body, "hello world");
    const bodies = events.filter((event) => event.kind === "requestBody");
    assert.deepEqual(bodies, [{ kind: "requestBody", chunk: "hello world", endOfStream: true }]);
  });

  it("streams a chunked request body chunk by chunk, then trailers", async () => {
    events.length = 0;
    const result = new Promise<string>((resolve, reject) => {
      const req = request(`${proxy.url}/stream`, { method: "PUT", agent: false }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk));
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.write("first;");
      // The second chunk is written only once the filter saw the first, so chunk boundaries are exact.
      until(() => events.some((event) => event.kind === "requestBody")).then(() => {
        req.addTrailers({ "x-checksum": "abc" });
        req.end("second");
      });
    });
    const echo = JSON.parse(await result) as EchoReply;
    assert.equal(echo.body, "first;second");
    assert.deepEqual(echo.trailers, { "x-checksum": "abc" });
    const requestSide = events.filter((event) => event.kind.startsWith("request"));
    assert.equal(requestSide[0].kind, "requestHeaders");
    assert.ok(requestSide[0].kind === "requestHeaders");
    assert.equal(requestSide[0].endOfStream, false);
    assert.deepEqual(requestSide.slice(1), [
      { kind: "requestBody", chunk: "first;", endOfStream: false },
      { kind: "requestBody", chunk: "second", endOfStream: false },
      { kind: "requestTrailers", trailers: [["x-checksum", "abc"]] },
    ]);
  });

  it("answers 404 with no upstream call when no route matches", async () => {
    const { proxy: narrow } = await startTestProxy([], (config) => {
      config.routes = [{ prefix: "/api", cluster: "upstream", timeoutMs: 0 }];
    });
    try {
      const response = await http1Request(`${narrow.url}/other`);
      assert.equal(response.status, 404);
      assert.equal(response.body, "");
      assert.equal(response.headers["content-length"], "0");
    } finally {
      await narrow.close();
    }
  });
});

describe("dev proxy with a configured upstream", () => {
  it("relays response trailers and a streamed response body", async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", trailer: "grpc-status" });
      res.write("part1,");
      res.addTrailers({ "grpc-status": "0" });
      res.end("part2");
    });
    const events: FilterEvent[] = [];
    const { proxy } = await startTestProxy([recordingFilter(events)], useUpstream(upstream.url));
    try {
      const response = await http1Request(`${proxy.url}/`);
      assert.equal(response.status, 200);
      assert.equal(response.body, "part1,part2");
      assert.deepEqual(response.trailers, { "grpc-status": "0" });
      const last = events.filter((event) => event.kind === "responseTrailers");
      assert.deepEqual(last, [{ kind: "responseTrailers", trailers: [["grpc-status", "0"]] }]);
      assert.equal(events.at(-1)?.kind, "finish");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("sends a filter's local reply without calling the upstream, through the filter's response side", async () => {
    let upstreamHits = 0;
    const upstream = await startUpstream((_req, res) => {
      upstreamHits++;
      res.end("upstream");
    });
    const events: FilterEvent[] = [];
    const { proxy } = await startTestProxy(
      [
        localReplyFilter(
          { status: 403, headers: [["powered-by", "proxy-wasm-as"]], body: Buffer.from("access forbidden"), details: "denied" },
          events,
        ),
      ],
      useUpstream(upstream.url),
    );
    try {
      const response = await http1Request(`${proxy.url}/secret`);
      assert.equal(response.status, 403);
      assert.equal(response.body, "access forbidden");
      assert.equal(response.headers["powered-by"], "proxy-wasm-as");
      assert.equal(response.headers["content-type"], "text/plain");
      assert.equal(response.headers["content-length"], "16");
      assert.equal(upstreamHits, 0);
      assert.deepEqual(
        events.map((event) => event.kind),
        ["requestHeaders", "responseHeaders", "responseBody", "finish"],
      );
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("answers 503 with Envoy's text when the upstream refuses connections", async () => {
    const upstream = await startUpstream(() => {});
    const deadUrl = upstream.url;
    await upstream.close();
    const { proxy } = await startTestProxy([], useUpstream(deadUrl));
    try {
      const response = await http1Request(`${proxy.url}/`);
      assert.equal(response.status, 503);
      // Current Envoy (router.cc onUpstreamReset; the reason from utility.cc resetReasonToString,
      // the transport reason from connection_impl.cc onWriteReady).
      assert.equal(
        response.body,
        "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
      );
      const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
      // conn_pool_base.cc onConnectionEvent: a close while connecting.
      assert.match(stats, /^cluster\.upstream\.upstream_cx_connect_fail: 1$/m);
      assert.match(stats, /^cluster\.upstream\.upstream_cx_destroy_remote: 1$/m);
      assert.match(stats, /^cluster\.upstream\.upstream_rq_pending_failure_eject: 1$/m);
      assert.doesNotMatch(stats, /upstream_cx_destroy_with_active_rq/);
      assert.match(stats, /^http\.ingress_http\.downstream_rq_5xx: 1$/m);
    } finally {
      await proxy.close();
    }
  });

  it("answers 504 `upstream request timeout` when the route timeout passes", async () => {
    const upstream = await startUpstream(() => {
      // never answers
    });
    const { proxy } = await startTestProxy([], (config) => {
      useUpstream(upstream.url)(config);
      config.routes[0].timeoutMs = 50;
    });
    try {
      const response = await http1Request(`${proxy.url}/slow`);
      assert.equal(response.status, 504);
      assert.equal(response.body, "upstream request timeout");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
