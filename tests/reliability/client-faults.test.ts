// Faults of class "client": a downstream that sends garbage, stalls, or goes away. Real clients
// over loopback against the dev proxy (echo upstream, empty filter chain: the codec and the
// connection manager are what is tested). Every test ends by showing that a well-behaved client
// is still served, since the point is that one client cannot harm the others or the process.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect as connectH2 } from "node:http2";
import { connect, type Socket } from "node:net";
import type { DevProxy } from "../../src/proxy/dev-proxy";
import { http1Request, startTestProxy, startUpstream, until, useUpstream } from "../proxy/proxy-test-helpers";

/** Opens a TCP connection to the proxy's listener. */
function openSocket(proxy: DevProxy): Promise<Socket> {
  const { hostname, port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Writes `bytes` and collects everything the proxy sends until it closes the connection. */
function sendAndReadUntilClose(socket: Socket, bytes: Buffer | string): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    socket.on("error", () => {});
    socket.write(bytes);
  });
}

async function assertStillServing(proxy: DevProxy): Promise<void> {
  const response = await http1Request(`${proxy.url}/after`);
  assert.equal(response.status, 200);
  assert.equal((JSON.parse(response.body) as { path: string }).path, "/after");
}

describe("malformed HTTP/1.1 from a client", () => {
  let proxy: DevProxy;
  before(async () => {
    ({ proxy } = await startTestProxy());
  });
  after(() => proxy.close());

  // envoy source/common/http/http1/codec_impl.cc ServerConnectionImpl::sendProtocolError: a request
  // the codec cannot parse gets `400 Bad Request` with `connection: close`, and the connection ends.
  it("a request line that is not HTTP gets 400 Bad Request and the connection is closed", async () => {
    const reply = await sendAndReadUntilClose(await openSocket(proxy), "THIS IS NOT HTTP\r\n\r\n");
    assert.equal(reply.toString("latin1"), "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    await assertStillServing(proxy);
  });

  it("a header line without a colon gets 400 Bad Request and the connection is closed", async () => {
    const reply = await sendAndReadUntilClose(await openSocket(proxy), "GET / HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n");
    assert.equal(reply.toString("latin1"), "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    await assertStillServing(proxy);
  });

  it("a chunked body with a chunk size that is not hex gets 400 Bad Request and the connection is closed", async () => {
    const reply = await sendAndReadUntilClose(
      await openSocket(proxy),
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    );
    // Sent in one write, the bad chunk size is parsed before any upstream answer could start a response.
    assert.equal(reply.toString("latin1"), "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    await assertStillServing(proxy);
  });
});

describe("HTTP/2 protocol errors from a client", () => {
  let proxy: DevProxy;
  before(async () => {
    ({ proxy } = await startTestProxy());
  });
  after(() => proxy.close());

  // envoy source/common/http/http2/codec_impl.cc: nghttp2 reports the error, Envoy sends GOAWAY
  // and closes the connection (codec protocol error); other connections are unaffected. Ours sends
  // the same GOAWAY, but Node's HTTP/2 session leaves the TCP connection for the client to close.
  it("a DATA frame on stream 0 after the preface gets GOAWAY PROTOCOL_ERROR and the connection is closed; other clients are served", async () => {
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const dataOnStreamZero = Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41]);
    const socket = await openSocket(proxy);
    try {
      // Everything the proxy sends until it closes: Envoy closes after the GOAWAY (handleCodecError).
      const received = await Promise.race([
        sendAndReadUntilClose(socket, Buffer.concat([preface, emptySettings, dataOnStreamZero])),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the proxy kept the connection open after its GOAWAY")), 60_000).unref()),
      ]);
      const goaway = findFrame(received, 7);
      assert.ok(goaway !== undefined, "a GOAWAY frame");
      assert.equal(goaway.readUInt32BE(0), 0, "last stream id 0: no stream was processed");
      assert.equal(goaway.readUInt32BE(4), 1, "error code PROTOCOL_ERROR (1)");
      assert.equal(goaway.subarray(8).toString("latin1"), "DATA: stream_id == 0");
      const stats = await (await fetch(`${proxy.adminUrl}/stats?filter=protocol_error`)).text();
      assert.equal(stats, "http.ingress_http.downstream_cx_protocol_error: 1\n");
      await assertStillServing(proxy);
    } finally {
      socket.destroy();
    }
  });

  it("a client that sends half the connection preface and closes leaves nothing behind", async () => {
    const socket = await openSocket(proxy);
    socket.resume();
    socket.end("PRI * HTTP/2.0\r\n");
    await new Promise((resolve) => socket.on("close", resolve));
    await assertStillServing(proxy);
  });

  it("an h2c stream reset by the client (RST_STREAM CANCEL) mid-request does not end the connection's other streams", async () => {
    const client = connectH2(proxy.url);
    try {
      const cancelled = client.request({ ":method": "POST", ":path": "/cancelled" });
      cancelled.write("part of a body");
      cancelled.on("error", () => {});
      cancelled.close(8 /* CANCEL */);
      const other = client.request({ ":method": "GET", ":path": "/other" });
      const status = await new Promise<number>((resolve, reject) => {
        other.on("response", (headers) => resolve(Number(headers[":status"])));
        other.on("error", reject);
      });
      other.resume();
      assert.equal(status, 200);
    } finally {
      client.close();
    }
  });
});

/** The payload of the first frame of `type` in `bytes` (a server's frames, no preface). */
function findFrame(bytes: Buffer, type: number): Buffer | undefined {
  let at = 0;
  while (at + 9 <= bytes.length) {
    const length = bytes.readUIntBE(at, 3);
    if (bytes[at + 3] === type) return bytes.subarray(at + 9, at + 9 + length);
    at += 9 + length;
  }
  return undefined;
}

describe("slow and vanishing clients", () => {
  // Envoy: request_headers_timeout is disabled by default and the connection idle timeout is 1 h
  // (envoy api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto,
  // api/envoy/config/core/v3/protocol.proto); a slow client holds only its own connection, since
  // every connection is served by the event loop without blocking the others.
  it("slowloris: clients holding half-sent headers do not block others, and their connections stay open", async () => {
    const { proxy } = await startTestProxy();
    const slow: Socket[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const socket = await openSocket(proxy);
        socket.on("error", () => {});
        socket.write(`GET /slow-${i} HTTP/1.1\r\nHost: h\r\nX-Slow: `);
        slow.push(socket);
      }
      const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => http1Request(`${proxy.url}/fast-${i}`)));
      assert.deepEqual(responses.map((r) => r.status), Array(10).fill(200));
      assert.ok(slow.every((socket) => !socket.destroyed && socket.readyState === "open"), "the slow connections are still open");
      // Finishing the headers late still gets an answer.
      const late = new Promise<string>((resolve) => {
        let text = "";
        slow[0].on("data", (chunk: Buffer) => {
          text += chunk.toString("latin1");
          if (text.includes("\r\n\r\n")) resolve(text.split("\r\n")[0]);
        });
      });
      slow[0].write("1\r\n\r\n");
      assert.equal(await late, "HTTP/1.1 200 OK");
    } finally {
      for (const socket of slow) socket.destroy();
      await proxy.close();
    }
  });

  // envoy source/common/router/router.cc onDownstreamReset / conn_manager_impl.cc: a downstream
  // disconnect resets the stream, and the router resets the upstream request.
  it("a client that disconnects mid-body: the upstream request is aborted and the proxy keeps serving", async () => {
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((resolve) => (upstreamAborted = resolve));
    let bytesSeen = 0;
    const upstream = await startUpstream((req, res) => {
      req.on("data", (chunk: Buffer) => (bytesSeen += chunk.length));
      req.on("aborted", () => upstreamAborted());
      req.on("close", () => {
        if (!req.complete) upstreamAborted();
      });
      req.on("end", () => res.end("complete"));
    });
    const { proxy } = await startTestProxy([], useUpstream(upstream.url));
    try {
      const socket = await openSocket(proxy);
      socket.on("error", () => {});
      socket.write("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n0123456789");
      await until(() => bytesSeen === 10, "the first bytes upstream");
      socket.destroy();
      await aborted;
      const response = await http1Request(`${proxy.url}/next`);
      assert.equal(response.status, 200);
      assert.equal(response.body, "complete");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it("a client that disconnects while the upstream is still answering: the proxy keeps serving", async () => {
    let hold!: () => void;
    const held = new Promise<void>((resolve) => (hold = resolve));
    const upstream = await startUpstream((req, res) => {
      if (req.url === "/held") {
        res.writeHead(200, { "content-length": "1000" });
        res.write("first part");
        hold();
        return;
      }
      res.end("fine");
    });
    const { proxy } = await startTestProxy([], useUpstream(upstream.url));
    try {
      const socket = await openSocket(proxy);
      socket.on("error", () => {});
      socket.write("GET /held HTTP/1.1\r\nHost: h\r\n\r\n");
      await held;
      await new Promise<void>((resolve) => socket.once("data", () => resolve()));
      socket.destroy();
      const response = await http1Request(`${proxy.url}/next`);
      assert.equal(response.status, 200);
      assert.equal(response.body, "fine");
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
