/** The starting point of an HTTP filter project: a filter that works, and its Node test. */
export function httpFilterSource(name: string): string {
  return `// ${name}: an HTTP filter. It logs each request's path and adds \`x-greeting\` to every response.
import { RootContext, HttpContext, FilterHeadersStatus, registerRoot, log } from "proxy-wasm-as/assembly";
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
    if (path !== null) log.info("request to " + path);
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
`;
}
