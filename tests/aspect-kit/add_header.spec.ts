// Drives examples/add_header/build/add_header.wasm through the project's host from AssemblyScript
// (see as-pect.config.js in this folder). Build the example first: npm run build.
import { TestHost, Headers, Action } from "proxy-wasm-as/assembly/testing";

const CONFIG = '{"name": "x-wasm-header", "value": "demo-wasm"}';
const BAD_CONFIG_MESSAGE = "value: expected a string, got a number (1:29)";

function request(): Headers {
  return Headers.of([[":method", "GET"], [":path", "/"], [":authority", "example.com"]]);
}

// A module-level host, because AssemblyScript closures (as in `expect(() => ...)`) cannot
// capture locals.
let unstarted: TestHost = new TestHost();

describe("add_header through the host", () => {
  it("adds the configured header, rewrites location and adds hello: world!", () => {
    const host = new TestHost().pluginConfig(CONFIG).start();
    const stream = host.http();
    expect(stream.requestHeaders(request(), true)).toBe(Action.Continue);
    // The request reaches the upstream untouched.
    expect(stream.upstream.headers.toString()).toBe(":method: GET\n:path: /\n:authority: example.com");
    expect(stream.upstream.ended).toBe(true);

    const response = Headers.of([[":status", "302"], ["location", "http://elsewhere.example/"]]);
    expect(stream.responseHeaders(response, false)).toBe(Action.Continue);
    expect(stream.responseBody("moved", true)).toBe(Action.Continue);
    stream.complete();

    const downstream = stream.downstream.headers;
    expect(downstream.toString()).toBe(":status: 302\nlocation: envoy-wasm\nx-wasm-header: demo-wasm\nhello: world!");
    expect(downstream.get("hello")).toBe("world!");
    expect(downstream.get("location")).toBe("envoy-wasm");
    expect(downstream.get("x-wasm-header")).toBe("demo-wasm");
    expect(downstream.getAll("location").length).toBe(1);
    expect(stream.downstream.body).toBe("moved");
    expect(stream.downstream.ended).toBe(true);
    expect(stream.localResponse.sent).toBe(false);
    expect(stream.localResponse.status).toBe(0);
    expect(host.logs.count("error")).toBe(0);
    expect(host.failure).toBe("");
  });

  it("without configuration adds a missing location and keeps an existing hello", () => {
    const host = new TestHost().start();
    const stream = host.http();
    stream.requestHeaders(request(), true);
    stream.responseHeaders(Headers.of([[":status", "200"], ["hello", "there"]]), true);
    expect(stream.downstream.headers.toString()).toBe(":status: 200\nhello: there\nlocation: envoy-wasm\nhello: world!");
    const hellos = stream.downstream.headers.getAll("hello");
    expect(hellos.length).toBe(2);
    expect(hellos[0]).toBe("there");
    expect(hellos[1]).toBe("world!");
    // What the filter left in the response map is what the client got.
    expect(stream.currentResponseHeaders.toString()).toBe(stream.downstream.headers.toString());
  });

  it("rejects a bad configuration: the start fails, the error is logged, no stream can open", () => {
    const host = new TestHost().pluginConfig('{"name": "x-wasm", "value": 3}');
    expect(host.tryStart()).toBe(false);
    expect(host.startError).toBe("PluginStartError: Failed to configure Wasm plugin in proxy_on_configure");
    expect(host.logs.contains(BAD_CONFIG_MESSAGE, "error")).toBe(true);
    const errors = host.logs.messages("error");
    expect(errors.length).toBe(1);
    expect(errors[0]).toBe(BAD_CONFIG_MESSAGE);
    expect(host.logs.contains(BAD_CONFIG_MESSAGE, "info")).toBe(false);
  });

  it("aborts with the host's message when the plugin did not start", () => {
    unstarted = new TestHost().pluginConfig("name=x-wasm");
    expect(unstarted.tryStart()).toBe(false);
    expect(() => { unstarted.http(); }).toThrow();
    expect(() => { new TestHost().pluginConfig("not json").start(); }).toThrow();
  });

  it("rejects unknown settings, log levels and filter names by aborting", () => {
    expect(() => { new TestHost().logLevel("loud").start(); }).toThrow();
    expect(() => { new TestHost("no-such-filter").start(); }).toThrow();
    expect(() => { new TestHost().start().logs.count("loud"); }).toThrow();
    expect(() => { new TestHost().failurePolicy("fail_sometimes").start(); }).toThrow();
  });
});
