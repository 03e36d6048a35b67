import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/vm_plugin_configuration.wasm", import.meta.url);

function info(host: TestHost): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === "info").map((r) => r.message);
}

test("VM start logs the VM configuration, plugin start the plugin configuration, in that order", () => {
  const host = createTestHost({ wasm, vmConfig: "this is vm configuration", pluginConfig: "this is plugin configuration" });
  assert.deepEqual(info(host), ["vm config: this is vm configuration", "plugin config: this is plugin configuration"]);
});

test("JSON configurations are logged verbatim", () => {
  const vmConfig = '{"my-vm-env": "dev"}';
  const pluginConfig = '{"my-plugin-config": "bar"}';
  const host = createTestHost({ wasm, vmConfig, pluginConfig });
  assert.deepEqual(info(host), [`vm config: ${vmConfig}`, `plugin config: ${pluginConfig}`]);
});

test("arbitrary text, including non-ASCII, is logged as given", () => {
  const host = createTestHost({ wasm, vmConfig: "vm: ünïcødé ✓", pluginConfig: "plugin:\ttabs and\nnewlines" });
  assert.deepEqual(info(host), ["vm config: vm: ünïcødé ✓", "plugin config: plugin:\ttabs and\nnewlines"]);
});

test("missing configurations log empty values and still start", () => {
  const host = createTestHost({ wasm });
  assert.deepEqual(info(host), ["vm config: ", "plugin config: "]);
});

test("HTTP streams pass through untouched", () => {
  const host = createTestHost({ wasm });
  const { upstream } = host.flow({ request: { headers: { ":path": "/" } } });
  assert.deepEqual(upstream.headers, [[":path", "/"]]);
});

test("strict mode: 200 streams make no out-of-place hostcall, leave no context behind and do not grow memory", () => {
  const host = createTestHost({ wasm, strict: true });
  // leakCheck throws if a context survives its stream or memory grows by more than a page.
  host.leakCheck(200, () => {
    host.flow({
      request: { headers: { ":method": "POST", ":path": "/", ":authority": "my-host.com", "content-type": "application/json", "content-length": "9" }, body: '{"id": 1}' },
      response: { headers: { ":status": "200", "content-length": "3" }, body: "abc" },
    });
  });
  assert.equal(host.failure, null);
});
