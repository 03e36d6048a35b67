import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";
import { PluginStartError } from "proxy-wasm-as";

const wasm = new URL("../build/http_config.wasm", import.meta.url);
const secret = "The secret to life is meaningless unless you discover it yourself";

test("the response gets custom-header with the whole plugin configuration", () => {
  const host = createTestHost({ wasm, pluginConfig: secret });
  const { downstream } = host.flow({
    request: { headers: { ":method": "GET", ":path": "/", ":authority": "localhost" } },
    response: { headers: { ":status": "200", "content-length": "40", "content-type": "text/plain" }, body: "Inspect the HTTP header: custom-header.\n" },
  });
  assert.deepEqual(downstream.headers, [
    [":status", "200"], ["content-length", "40"], ["content-type", "text/plain"], ["custom-header", secret],
  ]);
  assert.equal(downstream.body, "Inspect the HTTP header: custom-header.\n");
});

test("the header is added, not replaced: an upstream custom-header stays", () => {
  const host = createTestHost({ wasm, pluginConfig: "from config" });
  const { downstream } = host.flow({ request: { headers: {} }, response: { headers: { ":status": "200", "custom-header": "from upstream" } } });
  assert.deepEqual(downstream.headers, [[":status", "200"], ["custom-header", "from upstream"], ["custom-header", "from config"]]);
});

test("the request is not touched", () => {
  const host = createTestHost({ wasm, pluginConfig: secret });
  const { upstream } = host.flow({ request: { headers: { ":path": "/" } } });
  assert.deepEqual(upstream.headers, [[":path", "/"]]);
});

test("without configuration the header is added with an empty value", () => {
  const host = createTestHost({ wasm });
  const { downstream } = host.flow({ request: { headers: {} } });
  assert.deepEqual(downstream.headers, [[":status", "200"], ["custom-header", ""]]);
});

test("a configuration that is not UTF-8 fails the plugin start", () => {
  assert.throws(
    () => createTestHost({ wasm, pluginConfig: new Uint8Array([0xff, 0xfe, 0x41]) }),
    (error: unknown) => error instanceof PluginStartError && error.stage === "configure",
  );
});

test("strict mode: 200 streams make no out-of-place hostcall, leave no context behind and do not grow memory", () => {
  const host = createTestHost({ wasm, strict: true, pluginConfig: "value" });
  // leakCheck throws if a context survives its stream or memory grows by more than a page.
  host.leakCheck(200, () => {
    host.flow({
      request: { headers: { ":method": "POST", ":path": "/", ":authority": "my-host.com", "content-type": "application/json", "content-length": "9" }, body: '{"id": 1}' },
      response: { headers: { ":status": "200", "content-length": "3" }, body: "abc" },
    });
  });
  assert.equal(host.failure, null);
});
