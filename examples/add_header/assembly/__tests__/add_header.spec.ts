// add_header in the host, from AssemblyScript (examples/as-pect.config.js links it).
// The README's table, spec by spec; test/add_header.test.ts says the same from Node.
import { TestHost, Headers, Action } from "proxy-wasm-as/assembly/testing";

function playRedirect(host: TestHost): Headers {
  const stream = host.http();
  expect(stream.requestHeaders(Headers.of([[":method", "GET"], [":path", "/"], [":authority", "example.com"]]), true)).toBe(Action.Continue);
  expect(stream.responseHeaders(Headers.of([[":status", "302"], ["location", "http://elsewhere/"]]), true)).toBe(Action.Continue);
  return stream.downstream.headers;
}

describe("add_header", () => {
  it("with a configuration adds its header, sets location and adds hello: world!", () => {
    const host = new TestHost("add_header").pluginConfig('{"name": "x-wasm-header", "value": "demo-wasm"}').start();
    expect(playRedirect(host).toString()).toBe(":status: 302\nlocation: envoy-wasm\nx-wasm-header: demo-wasm\nhello: world!");
  });

  it("without a configuration does only the two fixed rewrites", () => {
    const host = new TestHost("add_header").start();
    expect(playRedirect(host).toString()).toBe(":status: 302\nlocation: envoy-wasm\nhello: world!");
  });

  it("refuses a configuration with a missing field and says why", () => {
    const host = new TestHost("add_header").pluginConfig('{"name": "x-wasm-header"}');
    expect(host.tryStart()).toBe(false);
    const errors = host.logs.messages("error");
    expect(errors.length).toBe(1);
    expect(errors[0]).toBe('add_header: configuration must be {"name": "<header>", "value": "<value>"}');
  });
});
