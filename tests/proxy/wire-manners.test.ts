import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as connectH2, type IncomingHttpHeaders } from "node:http2";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestProxy, startUpstream, until, useUpstream } from "./proxy-test-helpers";
import { localReplyFilter } from "./test-filters";

/** Envoy's date header value: IMF-fixdate. */
const IMF_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** What one raw exchange on a fresh connection gave back. */
interface RawExchange {
  /** Every byte the proxy sent, as latin1. */
  text: string;
  /** The proxy closed the connection (we never do first). */
  closedByProxy: boolean;
}

function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once("error", reject);
  });
}

/**
 * Writes `request` bytes and collects the answer until `done(text)` holds and then a short
 * quiet time passes, or the proxy closes. With `untilClosed`, waits for the proxy's close instead
 * of the quiet time (a slow machine may take long to close; it must not look like keep-alive).
 * Bounded: gives up after 30 s.
 */
async function rawExchange(url: string, request: string, done: (text: string) => boolean, untilClosed = false): Promise<RawExchange> {
  const socket = await openSocket(url);
  return new Promise((resolve, reject) => {
    let text = "";
    let settleTimer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => finish(false), 30_000);
    const finish = (closedByProxy: boolean): void => {
      clearTimeout(giveUp);
      if (settleTimer !== undefined) clearTimeout(settleTimer);
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      resolve({ text, closedByProxy });
    };
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      // Once the answer is whole, wait a moment: a proxy that closes does so right away.
      if (!untilClosed && done(text) && settleTimer === undefined) settleTimer = setTimeout(() => finish(false), 500);
    });
    socket.on("end", () => finish(true));
    socket.on("error", reject);
    socket.write(request);
  });
}

/** The head lines (status line first) of the first response in `text`. */
function headLines(text: string): string[] {
  return text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n");
}

function wholeResponse(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text.slice(0, end + 2));
  return length !== null && text.length >= end + 4 + Number(length[1]);
}

describe("dev proxy wire manners: HTTP/1.1 response heads as Envoy writes them", () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  before(async () => {
    // An upstream that sends its own Date and Server, as most do.
    upstream = await startUpstream((req, res) => {
      req.resume();
      res.setHeader("Server", "upstream/1.0");
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "2" });
      res.end("ok");
    });
    ({ proxy } = await startTestProxy([], useUpstream(upstream.url)));
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("a proxied HTTP/1.1 response has lower-case names, the upstream's date, server: envoy, the router's service time, and no Connection or Keep-Alive", async () => {
    const { text, closedByProxy } = await rawExchange(proxy.url, "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n", wholeResponse);
    const lines = headLines(text);
    assert.equal(lines[0], "HTTP/1.1 200 OK");
    const names = lines.slice(1).map((line) => line.slice(0, line.indexOf(":")));
    // The router appends x-envoy-upstream-service-time to the upstream's headers.
    assert.deepEqual(names, ["server", "content-type", "content-length", "date", "x-envoy-upstream-service-time"]);
    assert.equal(lines[1], "server: envoy");
    assert.match(lines[4].slice("date: ".length), IMF_DATE);
    assert.match(lines[5], /^x-envoy-upstream-service-time: \d+$/);
    assert.ok(text.endsWith("\r\n\r\nok"));
    assert.equal(closedByProxy, false, "the connection stays open (keep-alive without saying so)");
  });

  it("a request with `connection: close` gets `connection: close` and the connection ends", async () => {
    const { text, closedByProxy } = await rawExchange(proxy.url, "GET / HTTP/1.1\r\nhost: example.com\r\nconnection: close\r\n\r\n", wholeResponse, true);
    const lines = headLines(text);
    assert.ok(lines.includes("connection: close"), lines.join("\n"));
    assert.equal(lines.filter((line) => /^keep-alive:/i.test(line)).length, 0);
    assert.equal(closedByProxy, true);
  });

  it("an HTTP/1.0 keep-alive request is told `connection: keep-alive`", async () => {
    const { text, closedByProxy } = await rawExchange(proxy.url, "GET / HTTP/1.0\r\nhost: example.com\r\nconnection: keep-alive\r\n\r\n", wholeResponse);
    const lines = headLines(text);
    assert.ok(lines.includes("connection: keep-alive"), lines.join("\n"));
    assert.equal(lines.filter((line) => /^keep-alive:/i.test(line)).length, 0);
    assert.equal(closedByProxy, false);
  });
});

describe("dev proxy wire manners: local replies", () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  before(async () => {
    ({ proxy } = await startTestProxy([localReplyFilter({ status: 403, headers: [], body: Buffer.from("denied"), details: "test" })]));
  });
  after(() => proxy.close());

  it("a local reply's head is Envoy's: date and server appended, lower-case", async () => {
    const { text, closedByProxy } = await rawExchange(proxy.url, "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n", wholeResponse);
    const lines = headLines(text);
    assert.equal(lines[0], "HTTP/1.1 403 Forbidden");
    // Envoy's local reply sets content-length, then content-type (utility.cc prepareLocalReply).
    assert.deepEqual(
      lines.slice(1).map((line) => line.slice(0, line.indexOf(":"))),
      ["content-length", "content-type", "date", "server"],
    );
    assert.equal(lines[1], "content-length: 6");
    assert.equal(lines[2], "content-type: text/plain");
    assert.match(lines[3].slice("date: ".length), IMF_DATE);
    assert.equal(lines[4], "server: envoy");
    assert.equal(closedByProxy, false);
  });

  it("a reply sent before the request body arrived says `connection: close` and closes the connection", async () => {
    // The body's last 5 bytes never come: Envoy does not wait for them on HTTP/1.
    const { text, closedByProxy } = await rawExchange(
      proxy.url,
      "POST / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 10\r\n\r\nhello",
      wholeResponse,
      true,
    );
    const lines = headLines(text);
    assert.equal(lines[0], "HTTP/1.1 403 Forbidden");
    assert.ok(lines.includes("connection: close"), lines.join("\n"));
    assert.ok(text.endsWith("\r\n\r\ndenied"));
    assert.equal(closedByProxy, true);
    const stats = await (await fetch(`${proxy.adminUrl}/stats?filter=before_rq_complete`)).text();
    assert.equal(stats, "http.ingress_http.downstream_rq_response_before_rq_complete: 1\n");
  });
});

describe("dev proxy wire manners: framing as Envoy's HTTP/1 codec adds it", () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  before(async () => {
    upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === "/chunked") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("a");
        res.end("b");
        return;
      }
      res.writeHead(200, { "content-length": "0" });
      res.end();
    });
    ({ proxy } = await startTestProxy(
      [
        {
          name: "empty-reply",
          createStream: (sink) => ({
            requestHeaders: (headers, end) => {
              if (headers.some(([name, value]) => name === ":path" && value === "/empty")) {
                sink.localReply({ status: 401, headers: [["content-type", "application/json"], ["x-why", "no"]], body: Buffer.alloc(0), details: "test" });
              } else {
                sink.requestHeaders(headers, end);
              }
            },
            requestBody: (chunk, end) => sink.requestBody(chunk, end),
            requestTrailers: (trailers) => sink.requestTrailers(trailers),
            responseHeaders: (headers, end) => sink.responseHeaders(headers, end),
            responseBody: (chunk, end) => sink.responseBody(chunk, end),
            responseTrailers: (trailers) => sink.responseTrailers(trailers),
            finish: () => {},
          }),
        },
      ],
      useUpstream(upstream.url),
    ));
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("a local reply without a body has no content-type and ends with the codec's `content-length: 0`", async () => {
    const { text } = await rawExchange(proxy.url, "GET /empty HTTP/1.1\r\nhost: example.com\r\n\r\n", wholeResponse);
    const lines = headLines(text);
    assert.equal(lines[0], "HTTP/1.1 401 Unauthorized");
    assert.deepEqual(
      lines.slice(1).map((line) => line.slice(0, line.indexOf(":"))),
      ["x-why", "date", "server", "content-length"],
    );
    assert.equal(lines[4], "content-length: 0");
  });

  it("a body of unknown length ends the head with a lower-case `transfer-encoding: chunked`", async () => {
    const { text } = await rawExchange(proxy.url, "GET /chunked HTTP/1.1\r\nhost: example.com\r\n\r\n", (received) => received.endsWith("\r\n0\r\n\r\n"));
    const lines = headLines(text);
    assert.equal(lines[0], "HTTP/1.1 200 OK");
    assert.equal(lines[lines.length - 1], "transfer-encoding: chunked");
    assert.equal(lines.filter((line) => /^transfer-encoding:/i.test(line)).length, 1);
    assert.ok(text.endsWith("\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n"), JSON.stringify(text));
  });
});

describe("dev proxy wire manners: the router's reply before the request ended", () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  before(async () => {
    // Never answers: the route timeout does.
    upstream = await startUpstream((req) => req.resume());
    ({ proxy } = await startTestProxy([], (config) => {
      useUpstream(upstream.url)(config);
      config.routes = [{ prefix: "/", cluster: "upstream", timeoutMs: 200 }];
    }));
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  it("a route timeout's 504 while the request body is still coming says `connection: close` and closes", async () => {
    const { text, closedByProxy } = await rawExchange(
      proxy.url,
      "POST / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 10\r\n\r\nhello",
      wholeResponse,
      true,
    );
    const lines = headLines(text);
    assert.equal(lines[0], "HTTP/1.1 504 Gateway Timeout");
    assert.ok(lines.includes("connection: close"), lines.join("\n"));
    assert.ok(text.endsWith("\r\n\r\nupstream request timeout"));
    assert.equal(closedByProxy, true);
  });

  it("a route timeout's 504 after the whole request keeps the connection", async () => {
    const { text, closedByProxy } = await rawExchange(proxy.url, "POST / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\n\r\nhello", wholeResponse);
    const lines = headLines(text);
    assert.equal(lines[0], "HTTP/1.1 504 Gateway Timeout");
    assert.equal(lines.filter((line) => line.startsWith("connection:")).length, 0, lines.join("\n"));
    assert.equal(closedByProxy, false);
  });
});

describe("dev proxy wire manners: h2c connections", () => {
  const dir = mkdtempSync(join(tmpdir(), "pwas-wire-h2-"));
  const logPath = join(dir, "h2.log");
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  before(async () => {
    ({ proxy } = await startTestProxy([], (config) => {
      config.accessLogs = [{ path: logPath, format: "%DOWNSTREAM_REMOTE_ADDRESS% %PROTOCOL% %RESPONSE_CODE%\n" }];
    }));
  });
  after(async () => {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a well-behaved h2c connection stays open across streams, and its streams know the peer's address", async () => {
    const client = connectH2(proxy.url);
    try {
      for (let i = 0; i < 3; i++) {
        const [status, rawNames, server] = await new Promise<[number, string[], unknown]>((resolve, reject) => {
          const stream = client.request({ ":method": "GET", ":path": `/s${i}` });
          let head: [number, string[], unknown] = [0, [], undefined];
          stream.on("response", (headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
            head = [Number(headers[":status"]), raw.filter((_, index) => index % 2 === 0), headers.server];
          });
          stream.on("error", reject);
          stream.resume();
          stream.on("end", () => resolve(head));
        });
        assert.equal(status, 200);
        assert.equal(server, "envoy");
        assert.equal(rawNames.filter((name) => name === "date").length, 1, rawNames.join(","));
        assert.ok(rawNames.includes("x-envoy-upstream-service-time"), rawNames.join(","));
      }
      assert.equal(client.closed || client.destroyed, false, "the proxy did not close the connection");
      await until(() => existsSync(logPath) && readFileSync(logPath, "utf8").split("\n").length > 3, "three access log lines");
      const lines = readFileSync(logPath, "utf8").split("\n").filter((line) => line !== "");
      for (const line of lines) assert.match(line, /^127\.0\.0\.1:\d+ HTTP\/2 200$/);
      const stats = await (await fetch(`${proxy.adminUrl}/stats?filter=protocol_error`)).text();
      assert.equal(stats, "");
    } finally {
      client.close();
    }
  });
});
