// Faults of class "upstream": an upstream that answers garbage, stops half-way, or stalls. Real
// servers over loopback behind the dev proxy. Envoy's router (envoy source/common/router/router.cc
// `onUpstreamReset`, `onUpstreamAbort`): before the response started downstream, a local reply
// (503 for resets, 504 for the route timeout); after it started, the downstream stream is reset
// (on HTTP/1.1: the connection is closed with the body incomplete).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { DevProxy } from "../../src/proxy/dev-proxy";
import { http1Request, startTestProxy, startUpstream, useUpstream } from "../proxy/proxy-test-helpers";

/** A raw TCP "upstream" that runs `onConnection` for each connection. */
async function startRawUpstream(onConnection: (socket: Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends one raw HTTP/1.1 request and collects every byte until the proxy closes the connection. */
function rawExchange(proxy: DevProxy, request: string): Promise<string> {
  const { hostname, port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.on("error", reject);
  });
}

/** A request on a fresh connection succeeds: the proxy is still serving. */
async function assertStillServing(proxy: DevProxy, path: string, body: string): Promise<void> {
  const response = await http1Request(`${proxy.url}${path}`);
  assert.equal(response.status, 200);
  assert.equal(response.body, body);
}

describe("upstream faults", () => {
  it("an upstream that resets the connection mid-body: the client gets the headers and the partial body, then the connection closes", async () => {
    const upstream = await startUpstream((req, res) => {
      if (req.url === "/ok") return void res.end("fine");
      res.writeHead(200, { "content-length": "1000" });
      res.write("first part", () => setImmediate(() => res.socket?.destroy()));
    });
    const { proxy } = await startTestProxy([], useUpstream(upstream.url));
    try {
      const reply = await rawExchange(proxy, "GET /cut HTTP/1.1\r\nHost: h\r\n\r\n");
      const [head, body] = reply.split("\r\n\r\n");
      assert.equal(head.split("\r\n")[0], "HTTP/1.1 200 OK");
      assert.match(head, /\r\ncontent-length: 1000\r\n/i);
      assert.equal(body, "first part", "the body stops where the upstream stopped; nothing is invented");
      await assertStillServing(proxy, "/ok", "fine");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("an upstream that answers bytes that are not HTTP: 502 `reset reason: protocol error`, and the proxy keeps serving", async () => {
    const garbage = await startRawUpstream((socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
    const good = await startUpstream((_req, res) => res.end("fine"));
    const { proxy } = await startTestProxy([], (config) => {
      useUpstream(garbage.url)(config);
      config.clusters.push({ ...config.clusters.find((c) => c.name === "upstream")!, name: "good", url: new URL(good.url) });
      config.routes.unshift({ ...config.routes[0], prefix: "/ok", cluster: "good" });
    });
    try {
      const response = await http1Request(`${proxy.url}/garbage`);
      // Current Envoy answers a codec error with 502 (router.cc onUpstreamReset: ProtocolError ->
      // BadGateway), counting upstream_cx_protocol_error (codec_client.cc) and closing the
      // connection itself.
      assert.equal(response.status, 502);
      assert.equal(response.body, "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
      const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
      assert.match(stats, /^cluster\.upstream\.upstream_cx_protocol_error: 1$/m);
      assert.match(stats, /^cluster\.upstream\.upstream_cx_destroy_local_with_active_rq: 1$/m);
      assert.doesNotMatch(stats, /upstream_cx_connect_fail/);
      await assertStillServing(proxy, "/ok", "fine");
    } finally {
      await proxy.close();
      await garbage.close();
      await good.close();
    }
  });

  it("an upstream that stalls mid-body past the route timeout: the downstream connection is reset after the partial body", async () => {
    const upstream = await startUpstream((req, res) => {
      if (req.url === "/ok") return void res.end("fine");
      res.writeHead(200, { "content-length": "1000" });
      res.write("first part");
      // then nothing, ever
    });
    const { proxy } = await startTestProxy([], (config) => {
      useUpstream(upstream.url)(config);
      config.routes[0].timeoutMs = 200;
    });
    try {
      const reply = await rawExchange(proxy, "GET /stall HTTP/1.1\r\nHost: h\r\n\r\n");
      const [head, body] = reply.split("\r\n\r\n");
      assert.equal(head.split("\r\n")[0], "HTTP/1.1 200 OK");
      assert.equal(body, "first part");
      const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
      assert.match(stats, /^cluster\.upstream\.upstream_rq_timeout: 1$/m);
      await assertStillServing(proxy, "/ok", "fine");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("an upstream that accepts the connection and never answers, with the route timeout: 504 and the proxy keeps serving", async () => {
    const silent = await startRawUpstream(() => {
      // reads the request, never writes
    });
    const { proxy } = await startTestProxy([], (config) => {
      useUpstream(silent.url)(config);
      config.routes[0].timeoutMs = 200;
    });
    try {
      const responses = await Promise.all(Array.from({ length: 5 }, (_, i) => http1Request(`${proxy.url}/silent-${i}`)));
      assert.deepEqual(responses.map((r) => [r.status, r.body]), Array(5).fill([504, "upstream request timeout"]));
    } finally {
      await proxy.close();
      await silent.close();
    }
  });
});
