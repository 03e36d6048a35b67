// http_headers in the host, from AssemblyScript (examples/as-pect.config.js links it).
import { TestHost, Headers, Action } from "proxy-wasm-as/assembly/testing";

function request(): Headers {
  return Headers.of([[":method", "GET"], [":path", "/"], [":authority", "localhost"], ["test", "old"]]);
}

describe("http_headers", () => {
  it("sets test: best on the request and logs each request header", () => {
    const host = new TestHost("http_headers").start();
    const stream = host.http();
    expect(stream.requestHeaders(request(), true)).toBe(Action.Continue);
    expect(stream.upstream.headers.get("test")).toBe("best");
    expect(stream.upstream.headers.getAll("test").length).toBe(1);
    expect(host.logs.contains("request header --> test: best", "info")).toBe(true);
    expect(host.logs.contains("request header --> :path: /", "info")).toBe(true);
  });

  it("adds its own and the configured header to the response, and logs the stream's end", () => {
    const host = new TestHost("http_headers").pluginConfig('{"header": "x-wasm", "value": "yes"}').start();
    expect(host.logs.contains("header from config: x-wasm = yes", "info")).toBe(true);
    const stream = host.http();
    stream.requestHeaders(request(), true);
    expect(stream.responseHeaders(Headers.of([[":status", "200"]]), true)).toBe(Action.Continue);
    expect(stream.downstream.headers.toString()).toBe(":status: 200\nx-wasm: yes\nx-proxy-wasm-as-example: http_headers");
    expect(host.logs.contains("response header <-- x-proxy-wasm-as-example: http_headers", "info")).toBe(true);
    stream.complete();
    expect(host.logs.contains(stream.contextId.toString() + " finished", "info")).toBe(true);
  });

  it("refuses a configuration without a value, with a critical log", () => {
    const host = new TestHost("http_headers").pluginConfig('{"header": "x-wasm"}');
    expect(host.tryStart()).toBe(false);
    expect(host.logs.count("critical")).toBe(1);
    expect(host.logs.includes("invalid configuration format", "critical")).toBe(true);
  });
});
