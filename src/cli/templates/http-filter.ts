/** The starting point of an HTTP filter project: a filter that works, and its Node test. */
export function httpFilterSource(name: string): string {
  return `// ${name}: an HTTP filter. It logs each request's path and adds a greeting header (x-greeting
// unless the plugin configuration names another) to every response.
import {
  RootContext, HttpContext, FilterHeadersStatus, registerRoot, parseConfig, configError, log,
} from "proxy-wasm-as/assembly";
import { greeting } from "./greeting";

// The ABI callbacks, the allocator and the ABI version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

/** The plugin configuration of ${name}. */
// @ts-ignore: decorator (the SDK's build transform reads it)
@pluginConfig
class Config {
  /** Name of the response header that carries the greeting. */
  header: string = "x-greeting";
}

class Root extends RootContext {
  header: string = "x-greeting";

  onConfigure(pluginConfigurationSize: u32): bool {
    // No configuration reads as {}: the defaults. A wrong one is refused, and Envoy rejects it.
    const config = parseConfig<Config>(this.pluginConfiguration());
    if (config === null) {
      log.error("${name}: " + configError());
      return false;
    }
    this.header = config.header;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    return new Filter(contextId, this);
  }
}

class Filter extends HttpContext {
  constructor(contextId: u32, private readonly settings: Root) {
    super(contextId, settings);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    // Request headers are readable only here: copy what later callbacks need.
    const path = this.requestHeaders.get(":path");
    if (path !== null) log.info("request to " + path);
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.add(this.settings.header, greeting("${name}"));
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

test("the configuration names the header; a wrong one is refused with the field and position", () => {
  const host = createTestHost({ wasm, pluginName: "${name}", pluginConfig: { header: "x-hello" } });
  const result = host.flow({
    request: { headers: { ":method": "GET", ":path": "/", ":authority": "example.com" } },
    response: { headers: { ":status": "200" } },
  });
  assert.equal(result.downstream.header("x-hello"), "hello from ${name}");
  // A healthy plugin in the same process collects the logs of the ones that fail to start.
  const witness = createTestHost({ wasm, pluginName: "${name}" });
  witness.logs.clear();
  assert.throws(() => createTestHost({ wasm, pluginName: "${name}", pluginConfig: { header: 7 }, shareProcessWith: witness }), /proxy_on_configure/);
  assert.throws(() => createTestHost({ wasm, pluginName: "${name}", pluginConfig: { heder: "x" }, shareProcessWith: witness }), /proxy_on_configure/);
  assert.deepEqual(witness.logs.at("error"), [
    "${name}: header: expected a string, got a number (1:11)",
    "${name}: heder: unknown field (1:2)",
  ]);
});
`;
}
