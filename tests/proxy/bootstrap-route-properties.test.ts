// Issue #15: route metadata reaches Wasm filters as the `xds.route_metadata` property (and the
// older `route_metadata`), with `xds.route_name` and `xds.cluster_name`, as Envoy's attributes
// expose them (source/extensions/filters/common/expr/context.cc). The bootstrap is the properties
// example's README one, written after
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runBootstrap } from "./bootstrap-run";
import { http1Request, startUpstream, until } from "./proxy-test-helpers";
import { compileWat } from "./wat-filters";

function bootstrap(port: number): string {
  return `
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
                codec_type: AUTO
                route_config:
                  virtual_hosts:
                    - name: local
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/one" }
                          route: { cluster: web_service }
                          metadata:
                            filter_metadata:
                              envoy.filters.http.wasm: { auth: cookie }
                        - match: { prefix: "/two" }
                          route: { cluster: web_service }
                          metadata:
                            filter_metadata:
                              envoy.filters.http.wasm: { auth: authorization }
                        - match: { prefix: "/three" }
                          route: { cluster: web_service }
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: properties
                        vm_config:
                          runtime: envoy.wasm.runtime.v8
                          code:
                            local:
                              filename: ./examples/properties/build/properties.wasm
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: web_service
      type: STATIC
      load_assignment:
        cluster_name: web_service
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }
`;
}

describe("bootstrap: route metadata as the xds.route_metadata property (the properties example)", () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  before(async () => {
    upstream = await startUpstream((_req, res) => res.end("ok"));
  });
  after(() => upstream.close());

  /** The README's table, request by request, on one proxy run. */
  const readmeTable = async (concurrency: string) => {
    const run = await runBootstrap(bootstrap(Number(new URL(upstream.url).port)), ["--concurrency", concurrency]);
    try {
      const cases: Array<[string, Record<string, string>, number, string]> = [
        ["/one", { cookie: "value" }, 200, 'auth header is "cookie"'],
        ["/one", {}, 401, 'auth header is "cookie"'],
        ["/two", { authorization: "token" }, 200, 'auth header is "authorization"'],
        ["/two", { cookie: "value" }, 401, 'auth header is "authorization"'],
        ["/three", {}, 200, "no auth header for route"],
      ];
      for (const [path, headers, status, line] of cases) {
        const before = run.stderr().split("\n").length;
        const response = await http1Request(`${run.url}${path}`, { headers });
        assert.equal(response.status, status, `${path} ${JSON.stringify(headers)}`);
        if (status === 401) assert.equal(response.body, "");
        // With worker threads the log lines come over from the worker a moment later.
        const filterLines = () => run.stderr().split("\n").slice(before - 1).filter((text) => text.includes("wasm log properties:"));
        await until(() => filterLines().length >= 2, "the filter's two log lines");
        assert.match(filterLines()[0], new RegExp(`wasm log properties: ${line}$`), run.stderr());
        assert.match(filterLines()[1], /wasm log properties: \d+ finished$/, run.stderr());
      }
      assert.doesNotMatch(run.stderr(), /unsupported/, run.stderr());
    } finally {
      await run.stop();
    }
  };

  it("each route's auth header is what the filter reads (--concurrency 1)", () => readmeTable("1"));

  it("each route's auth header is what the filter reads (--concurrency 2)", () => readmeTable("2"));
});

/**
 * Logs `xds.cluster_name` and `xds.cluster_metadata.filter_metadata.envoy.lb.tier` on every
 * request (`(none)` for a property that is not there). Envoy sets the cluster info when the route
 * is resolved, before the filters (source/common/http/conn_manager_impl.cc `refreshCachedRoute`).
 */
const CLUSTER_READER = compileWat(`(module
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
  (data (i32.const 100) "xds\\00cluster_name")
  (data (i32.const 140) "xds\\00cluster_metadata\\00filter_metadata\\00envoy.lb\\00tier")
  (data (i32.const 300) "(none)")
  (func $logProperty (param $path i32) (param $size i32)
    (if (i32.eqz (call $get (local.get $path) (local.get $size) (i32.const 200) (i32.const 204)))
      (then (drop (call $log (i32.const 2) (i32.load (i32.const 200)) (i32.load (i32.const 204)))))
      (else (drop (call $log (i32.const 2) (i32.const 300) (i32.const 6))))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (call $logProperty (i32.const 100) (i32.const 16))
    (call $logProperty (i32.const 140) (i32.const 50))
    (i32.const 0))
)`);

describe("bootstrap: a cluster's filter_metadata as the xds.cluster_metadata property of the streams routed to it", () => {
  const dir = mkdtempSync(join(tmpdir(), "pwas-cluster-md-"));
  const wasm = join(dir, "cluster-reader.wasm");
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  before(async () => {
    writeFileSync(wasm, CLUSTER_READER);
    upstream = await startUpstream((_req, res) => res.end("ok"));
  });
  after(() => {
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const clusterYaml = (name: string, metadata: string) => `
    - name: ${name}
      type: STATIC${metadata}
      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${new URL(upstream.url).port} } } }`;
  const yaml = () => `
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
                        - match: { prefix: "/gold" }
                          route: { cluster: gold }
                        - match: { prefix: "/" }
                          route: { cluster: plain }
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: cluster_reader
                        vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${wasm} } } }
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:${clusterYaml("gold", `
      metadata:
        filter_metadata:
          envoy.lb: { tier: gold }`)}${clusterYaml("plain", "")}
`;

  for (const concurrency of ["1", "2"]) {
    it(`a route to a cluster with metadata reads it; one without reads none (--concurrency ${concurrency})`, async () => {
      const run = await runBootstrap(yaml(), ["--concurrency", concurrency]);
      try {
        const lines = () => run.stderr().split("\n").filter((text) => text.includes("wasm log cluster_reader:")).map((text) => text.slice(text.indexOf("wasm log cluster_reader: ") + 25));
        assert.equal((await http1Request(`${run.url}/gold`)).status, 200);
        await until(() => lines().length >= 2, "the /gold lines");
        assert.equal((await http1Request(`${run.url}/other`)).status, 200);
        await until(() => lines().length >= 4, "the /other lines");
        assert.deepEqual(lines(), ["gold", "gold", "plain", "(none)"]);
        assert.doesNotMatch(run.stderr(), /unsupported/, run.stderr());
      } finally {
        await run.stop();
      }
    });
  }
});
