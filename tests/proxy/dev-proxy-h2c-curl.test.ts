import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { connect } from "node:http2";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { EchoReply } from "../../src/proxy/echo-upstream";
import { startTestProxy } from "./proxy-test-helpers";
import { recordingFilter, type FilterEvent } from "./test-filters";

const run = promisify(execFile);

describe("dev proxy: h2c and curl on the same port", () => {
  const events: FilterEvent[] = [];
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  before(async () => {
    ({ proxy } = await startTestProxy([
      recordingFilter(events, { responseHeaders: (headers) => [...headers, ["hello", "world!"]] }),
    ]));
  });
  after(() => proxy.close());

  it("serves an h2c request (node:http2 with prior knowledge), body and filter included", async () => {
    events.length = 0;
    const session = connect(proxy.url);
    try {
      const stream = session.request({ ":method": "POST", ":path": "/h2?x=1", "content-type": "text/plain" });
      stream.end("over h2");
      const headers = await new Promise<Record<string, unknown>>((resolve) => stream.on("response", resolve));
      let body = "";
      stream.on("data", (chunk: Buffer) => (body += chunk));
      await new Promise((resolve) => stream.on("end", resolve));
      assert.equal(headers[":status"], 200);
      assert.equal(headers.hello, "world!");
      assert.equal(headers.server, "envoy");
      const echo = JSON.parse(body) as EchoReply;
      assert.equal(echo.method, "POST");
      assert.equal(echo.path, "/h2?x=1");
      assert.equal(echo.body, "over h2");
      const requestHeaders = events[0];
      assert.ok(requestHeaders.kind === "requestHeaders");
      assert.equal(requestHeaders.endOfStream, false);
      assert.deepEqual(
        requestHeaders.headers.filter(([name]) => name.startsWith(":")).map(([name]) => name).sort(),
        [":authority", ":method", ":path", ":scheme"],
      );
      assert.deepEqual(events.filter((event) => event.kind === "requestBody").at(-1), {
        kind: "requestBody",
        chunk: "",
        endOfStream: true,
      });
    } finally {
      session.close();
    }
  });

  it("curl -i over HTTP/1.1 shows the filter's header", async () => {
    const { stdout } = await run("curl", ["-sS", "-i", `${proxy.url}/`]);
    assert.match(stdout, /^HTTP\/1\.1 200 OK\r$/m);
    assert.match(stdout, /^hello: world!\r$/m);
    assert.match(stdout, /^server: envoy\r$/m);
  });

  it("curl --http2-prior-knowledge gets an HTTP/2 answer", async () => {
    const { stdout } = await run("curl", ["-sS", "-i", "--http2-prior-knowledge", `${proxy.url}/two`]);
    assert.match(stdout, /^HTTP\/2 200 \r$/m);
    assert.match(stdout, /^hello: world!\r$/m);
    assert.equal((JSON.parse(stdout.slice(stdout.indexOf("\r\n\r\n") + 4)) as EchoReply).path, "/two");
  });
});
