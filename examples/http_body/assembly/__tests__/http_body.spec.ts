// http_body in the host, from AssemblyScript (examples/as-pect.config.js links it).
import { TestHost, Headers, Action } from "proxy-wasm-as/assembly/testing";

function post(extra: string[][] = []): Headers {
  const headers = Headers.of([[":method", "POST"], [":path", "/"], [":authority", "localhost"], ["content-length", "11"]]);
  for (let i = 0; i < extra.length; i++) headers.add(extra[i][0], extra[i][1]);
  return headers;
}

describe("http_body", () => {
  it("buffers the request body and replaces it once complete", () => {
    const host = new TestHost("http_body").start();
    const stream = host.http();
    expect(stream.requestHeaders(post(), false)).toBe(Action.Continue);
    // The announced length no longer holds: the filter drops content-length.
    expect(stream.upstream.headers.has("content-length")).toBe(false);
    expect(stream.requestBody("hello ", false)).toBe(Action.StopIterationAndBuffer);
    expect(stream.upstream.body).toBe("");
    expect(stream.requestBody("world", true)).toBe(Action.Continue);
    expect(stream.upstream.body).toBe("[this is replaced body]");
    expect(host.logs.contains("original request body: hello world", "info")).toBe(true);
  });

  it("appends to the response body when the request asks for it", () => {
    const host = new TestHost("http_body").start();
    const stream = host.http();
    stream.requestHeaders(post([["buffer-replace-at", "response"], ["buffer-operation", "append"]]), false);
    expect(stream.requestBody("hello world", true)).toBe(Action.Continue);
    expect(stream.upstream.body).toBe("hello world");
    stream.responseHeaders(Headers.of([[":status", "200"], ["content-length", "2"]]), false);
    expect(stream.responseBody("ok", true)).toBe(Action.Continue);
    expect(stream.downstream.body).toBe("ok[this is appended body]");
  });

  it("answers a request without content-length with a local 400", () => {
    const host = new TestHost("http_body").start();
    const stream = host.http();
    stream.requestHeaders(Headers.of([[":method", "POST"], [":path", "/"], [":authority", "localhost"]]), false);
    expect(stream.localResponse.status).toBe(400);
    expect(stream.localResponse.body).toBe("content must be provided");
    expect(stream.upstream.reached).toBe(false);
  });

  it("echo: answers with the whole request body", () => {
    const host = new TestHost("http_body").pluginConfig("echo").start();
    const stream = host.http();
    stream.requestHeaders(Headers.of([[":method", "POST"], [":path", "/"], [":authority", "localhost"]]), false);
    expect(stream.requestBody("ping ", false)).toBe(Action.StopIterationAndBuffer);
    stream.requestBody("pong", true);
    expect(stream.localResponse.status).toBe(200);
    expect(stream.localResponse.body).toBe("ping pong");
  });
});
