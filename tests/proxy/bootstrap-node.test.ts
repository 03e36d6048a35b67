// Issue #15: the bootstrap's `node` (id, cluster, metadata) is what Wasm plugins read as the
// `node` property, in root and stream contexts, as in Envoy (source/extensions/common/wasm/context.cc,
// `Context::getProperty` for `node`; https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runBootstrap } from "./bootstrap-run";
import { http1Request, until } from "./proxy-test-helpers";
import { compileWat } from "./wat-filters";

/** Logs `node.cluster` at configure time and `node.metadata.team` on every request (info). */
const NODE_READER = compileWat(`(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $get (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (data (i32.const 100) "node\\00cluster")
  (data (i32.const 120) "node\\00metadata\\00team")
  (func $logProperty (param $path i32) (param $size i32)
    (if (i32.eqz (call $get (local.get $path) (local.get $size) (i32.const 200) (i32.const 204)))
      (then (drop (call $log (i32.const 2) (i32.load (i32.const 200)) (i32.load (i32.const 204)))))))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (call $logProperty (i32.const 100) (i32.const 12))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (call $logProperty (i32.const 120) (i32.const 18))
    (i32.const 0))
)`);

describe("bootstrap: node as the node property", () => {
  const dir = mkdtempSync(join(tmpdir(), "pwas-node-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const wasm = join(dir, "node-reader.wasm");
  writeFileSync(wasm, NODE_READER);

  const yaml = `
node:
  id: sidecar~10.0.0.1~web-1.default~default.svc.cluster.local
  cluster: web.default
  metadata: { team: payments }
static_resources:
  listeners:
  - name: main
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: local
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: ok } }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: node_reader
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: ${wasm} } }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
`;

  it("the root context reads node.cluster, a stream node.metadata.team (--concurrency 1)", () => readsNode("1"));

  it("the root context reads node.cluster, a stream node.metadata.team (--concurrency 2)", () => readsNode("2"));

  async function readsNode(concurrency: string): Promise<void> {
    const run = await runBootstrap(yaml, ["--concurrency", concurrency]);
    try {
      assert.match(run.stderr(), /\[info\]\[wasm\] \[context 1\] wasm log: web\.default\n/);
      assert.equal((await http1Request(`${run.url}/`)).body, "ok");
      await until(() => run.stderr().includes("wasm log node_reader: payments\n"), "the stream's log line");
      assert.doesNotMatch(run.stderr(), /unsupported/, run.stderr());
    } finally {
      await run.stop();
    }
  }
});
