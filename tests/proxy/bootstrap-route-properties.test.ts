// Issue #15: route metadata reaches Wasm filters as the `xds.route_metadata` property (and the
// older `route_metadata`), with `xds.route_name` and `xds.cluster_name`, as Envoy's attributes
// expose them (source/extensions/filters/common/expr/context.cc). The bootstrap is the properties
// example's README one, written after
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runBootstrap } from "./bootstrap-run";
import { http1Request, startUpstream, until } from "./proxy-test-helpers";

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
