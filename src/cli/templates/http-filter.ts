/** The starting point of an HTTP filter project: a filter that works, its as-pect spec and its Node test. */
export function httpFilterSource(name: string): string {
  return `// ${name}: an HTTP filter. It logs each request's path, answers /healthz itself, and adds
// \`x-greeting\` to every response from the upstream.
import { RootContext, HttpContext, FilterHeadersStatus, Header, registerRoot, sendLocalResponse, log } from "proxy-wasm-as/assembly";
import { greeting } from "./greeting";

// The ABI callbacks, the allocator and the ABI version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

class Root extends RootContext {
  createHttpContext(contextId: u32): HttpContext {
    return new Filter(contextId, this);
  }
}

class Filter extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    // Request headers are readable only here: copy what later callbacks need.
    const path = this.requestHeaders.get(":path");
    if (path === null) return FilterHeadersStatus.Continue;
    log.info("request to " + path);
    if (path == "/healthz") {
      // A local reply: the upstream never sees the request.
      sendLocalResponse(200, "ok\\n", [Header.of("x-health", "${name}")], "health_check");
      return FilterHeadersStatus.StopIteration;
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.add("x-greeting", greeting("${name}"));
    return FilterHeadersStatus.Continue;
  }
}

registerRoot("", (contextId: u32): RootContext => new Root(contextId));
`;
}

/** The as-pect spec that plays requests through the built filter in the host. */
export function httpFilterSpec(name: string): string {
  return `// Plays requests through the built filter (build/${name}.wasm) in proxy-wasm-as's host, the one
// the dev proxy and the Node test kit use. as-pect.config.js links it (withProxyWasmHost).
import { TestHost, Headers, Action } from "proxy-wasm-as/assembly/testing";

function get(path: string): Headers {
  return Headers.of([[":method", "GET"], [":path", path], [":authority", "example.com"]]);
}

describe("${name} in the host", () => {
  it("adds x-greeting to the response and logs the path", () => {
    const host = new TestHost().pluginName("${name}").start();
    const stream = host.http();
    expect(stream.requestHeaders(get("/hello"), true)).toBe(Action.Continue);
    expect(stream.upstream.reached).toBe(true);
    expect(stream.responseHeaders(Headers.of([[":status", "200"]]), true)).toBe(Action.Continue);
    expect(stream.downstream.header("x-greeting")).toBe("hello from ${name}");
    expect(host.logs.contains("request to /hello", "info")).toBe(true);
    expect(host.logs.lines()).toIncludeEqual("wasm log ${name}: request to /hello");
  });

  it("answers /healthz itself with a local reply", () => {
    const host = new TestHost().pluginName("${name}").start();
    const stream = host.http();
    // Envoy holds the request after a local reply (StopIteration becomes StopAllIterationAndWatermark).
    expect(stream.requestHeaders(get("/healthz"), true)).toBe(Action.StopAllIterationAndWatermark);
    expect(stream.upstream.reached).toBe(false);
    expect(stream.localResponse.sent).toBe(true);
    expect(stream.localResponse.status).toBe(200);
    expect(stream.localResponse.body).toBe("ok\\n");
    expect(stream.localResponse.headers.get("x-health")).toBe("${name}");
  });
});
`;
}

export function httpFilterTest(name: string): string {
  return `import assert from "node:assert/strict";
import { test } from "node:test";
import { createTestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/${name}.wasm", import.meta.url);

test("adds x-greeting to the response and logs the path", () => {
  const host = createTestHost({ wasm, pluginName: "${name}" });
  const result = host.flow({
    request: { headers: { ":method": "GET", ":path": "/hello", ":authority": "example.com" } },
    response: { headers: { ":status": "200" } },
  });
  assert.equal(result.downstream.header("x-greeting"), "hello from ${name}");
  assert.ok(host.logs.lines.includes("wasm log ${name}: request to /hello"), host.logs.lines.join("\\n"));
});

test("answers /healthz itself", () => {
  const host = createTestHost({ wasm, pluginName: "${name}" });
  const result = host.flow({ request: { headers: { ":method": "GET", ":path": "/healthz", ":authority": "example.com" } } });
  assert.equal(result.localResponse?.status, 200);
  assert.equal(result.localResponse?.body, "ok\\n");
  assert.equal(result.downstream.header("x-health"), "${name}");
  assert.equal(result.upstream.headers, null);
});
`;
}
