import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createTestHost } from "../../src/testing";
import { initWat, watToWasm } from "../helpers/wat";

let wasm: Uint8Array;
const WAT = readFileSync(fileURLToPath(new URL("./fixtures/root_id_echo.wat", import.meta.url)), "utf8");
const GET = { ":method": "GET", ":path": "/", ":authority": "example.com" };

before(async () => {
  await initWat();
  wasm = watToWasm(WAT);
});

function twoRoots() {
  const host = createTestHost({ wasm, pluginName: "a", rootId: "alpha", pluginConfig: "config-a" });
  const beta = host.addPlugin({ name: "b", rootId: "beta", pluginConfig: "config-b" });
  return { host, beta };
}

test("addPlugin: each root id is configured on its own root context of the one VM, with its own configuration", () => {
  const { host, beta } = twoRoots();
  assert.equal(host.rootContextId, 1);
  assert.equal(beta.rootContextId, 2);
  assert.equal(beta.name, "b");
  assert.equal(beta.rootId, "beta");
  assert.equal(beta.plugin.vm, host.vm);
  assert.deepEqual(host.logs.at("info"), ["alpha", "config-a", "beta", "config-b"]);
  // Root-context lines: Envoy prints `wasm log <root_id> <vm_id>:` (vm_id empty here).
  assert.deepEqual(host.logs.lines, ["wasm log alpha: alpha", "wasm log alpha: config-a", "wasm log beta: beta", "wasm log beta: config-b"]);
});

test("addPlugin: streams opened on either plugin are created under that plugin's root", () => {
  const { host, beta } = twoRoots();
  const onBeta = beta.http();
  const onAlpha = host.http();
  assert.equal(onBeta.requestHeaders(GET, { endOfStream: true }), "Continue");
  assert.equal(onAlpha.requestHeaders(GET, { endOfStream: true }), "Continue");
  assert.equal(onBeta.contextId, 3);
  assert.equal(onAlpha.contextId, 4);
  assert.deepEqual(onBeta.upstream.headers, [...Object.entries(GET), ["x-root-id", "beta"], ["x-parent", "2"]]);
  assert.deepEqual(onAlpha.upstream.headers, [...Object.entries(GET), ["x-root-id", "alpha"], ["x-parent", "1"]]);
  onBeta.complete();
  onAlpha.complete();
  assert.equal(host.vm.contexts.size, 2, "the two roots are left");
});

test("addPlugin: flow() on a handle plays one whole request through that plugin", () => {
  const { beta } = twoRoots();
  const result = beta.flow({ request: { headers: GET }, response: { headers: { ":status": "204" } } });
  assert.equal(result.upstream.header("x-root-id"), "beta");
  assert.equal(result.upstream.header("x-parent"), "2");
  assert.deepEqual(result.downstream.headers, [[":status", "204"]]);
  assert.equal(result.localResponse, null);
});

test("addPlugin: a third plugin with an unknown root id gets root context 3; a root id is not a name", () => {
  const { host } = twoRoots();
  const gamma = host.addPlugin({ rootId: "gamma" });
  assert.equal(gamma.rootContextId, 3);
  assert.equal(gamma.name, "");
  const result = gamma.flow({ request: { headers: GET } });
  assert.equal(result.upstream.header("x-root-id"), "gamma");
  assert.equal(result.upstream.header("x-parent"), "3");
});

test("addPlugin: shutting one plugin down removes only its root; it then refuses new streams", () => {
  const { host, beta } = twoRoots();
  assert.equal(beta.shutdown(), true);
  assert.equal(host.vm.contexts.size, 1);
  assert.throws(() => beta.http(), { message: 'plugin "b" (root_id "beta") was shut down: it takes no new streams' });
  assert.throws(() => beta.tcp(), { message: 'plugin "b" (root_id "beta") was shut down: it takes no new streams' });
  assert.equal(host.flow({ request: { headers: GET } }).upstream.header("x-root-id"), "alpha");
  assert.equal(beta.shutdown(), true, "a second shutdown is a no-op");
});

test("addPlugin: a plugin that rejects its configuration throws PluginStartError; the VM stays usable", () => {
  const host = createTestHost({ wasm: new URL("../../examples/add_header/build/add_header.wasm", import.meta.url) });
  assert.throws(() => host.addPlugin({ name: "bad", pluginConfig: { nope: 1 } }), { name: "PluginStartError", message: /proxy_on_configure/ });
  const good = host.addPlugin({ name: "good", pluginConfig: { name: "x-wasm", value: "yes" } });
  const result = good.flow({ request: { headers: GET } });
  assert.deepEqual(result.downstream.headers, [[":status", "200"], ["x-wasm", "yes"], ["location", "envoy-wasm"], ["hello", "world!"]]);
  assert.equal(host.flow({ request: { headers: GET } }).downstream.header("x-wasm"), undefined, "the first plugin has no configuration");
});

test("addPlugin: refused once the VM has failed", () => {
  const trap = watToWasm(`(module
    (memory (export "memory") 1)
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) unreachable))`);
  const host = createTestHost({ wasm: trap });
  host.flow({ request: { headers: GET } });
  assert.notEqual(host.failure, null);
  assert.throws(() => host.addPlugin({ name: "late" }), { message: "addPlugin: the VM has failed; no plugin can start on it" });
});

test("addPlugin with fail_reload: after the back-off, the added plugin starts again on the new VM", () => {
  const trapOnPost = watToWasm(`(module
    (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) ":method")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 4096))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $get (i32.const 0) (i32.const 16) (i32.const 7) (i32.const 64) (i32.const 68)))
      ;; "POST" is 4 bytes, "GET" 3: trap on POST.
      (if (i32.eq (i32.load (i32.const 68)) (i32.const 4)) (then unreachable))
      (i32.const 0)))`);
  const host = createTestHost({ wasm: trapOnPost, failurePolicy: "fail_reload", reloadBackoffMs: 1000 });
  const second = host.addPlugin({ name: "second" });
  const failed = second.flow({ request: { headers: { ...GET, ":method": "POST" } } });
  assert.equal(failed.downstream.status, 503);
  assert.notEqual(host.failure, null);
  const firstVm = host.vm;
  host.advanceTime(999);
  assert.equal(second.flow({ request: { headers: GET } }).downstream.status, 503, "still failed inside the back-off");
  host.advanceTime(1);
  const ok = second.flow({ request: { headers: GET } });
  assert.equal(ok.downstream.status, 200);
  assert.notEqual(host.vm, firstVm);
  assert.equal(host.host.reloads, 1);
  assert.equal(second.plugin.vm, host.vm);
  assert.equal(second.rootContextId, 2, "the first plugin is root 1 of the new VM, this one root 2");
});
