// Issue #15: a filter that rewrites `:authority` and calls `clear_route_cache` is routed again by
// the new authority, as in Envoy (source/extensions/common/wasm/context.cc: clearRouteCache on the
// stream's downstream callbacks; source/common/router/config_impl.cc picks the virtual host). The
// bootstrap is the http_routing example's README one (virtual hosts `*-canary` and `*`), written
// after https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runBootstrap } from "./bootstrap-run";
import { http1Request, startUpstream } from "./proxy-test-helpers";

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

function bootstrap(primary: number, canary: number, configuration: string): string {
  const cluster = (name: string, port: number) => `
  - name: ${name}
    type: STATIC
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${port} }`;
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
            - name: canary
              domains: ["*-canary"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: canary }
            - name: primary
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: primary }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: http_routing
                configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: "${configuration}" }
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: examples/http_routing/build/http_routing.wasm } }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:${cluster("primary", primary)}${cluster("canary", canary)}
`;
}

describe("bootstrap: clear_route_cache re-routes by the rewritten authority (http_routing)", () => {
  let primary: Upstream;
  let canary: Upstream;
  before(async () => {
    primary = await startUpstream((req, res) => res.end(`hello from primary! ${req.headers.host}`));
    canary = await startUpstream((req, res) => res.end(`hello from canary! ${req.headers.host}`));
  });
  after(async () => {
    await primary.close();
    await canary.close();
  });
  const port = (upstream: Upstream) => Number(new URL(upstream.url).port);

  const evenToCanaryOddToPrimary = async (concurrency: string) => {
    // "2" is byte 0x32 (even), "1" is 0x31 (odd).
    const even = await runBootstrap(bootstrap(port(primary), port(canary), "2"), ["--concurrency", concurrency]);
    try {
      for (let n = 0; n < 2; n++) {
        const response = await http1Request(`${even.url}/`, { headers: { host: "my-host.com" } });
        assert.equal(response.body, "hello from canary! my-host.com-canary");
      }
      assert.match(even.stderr(), /wasm log http_routing: value: 50\n/);
    } finally {
      await even.stop();
    }
    const odd = await runBootstrap(bootstrap(port(primary), port(canary), "1"), ["--concurrency", concurrency]);
    try {
      const response = await http1Request(`${odd.url}/`, { headers: { host: "my-host.com" } });
      assert.equal(response.body, "hello from primary! my-host.com");
    } finally {
      await odd.stop();
    }
  };

  it("an even dice goes to the canary, an odd one stays on the primary (--concurrency 1)", () => evenToCanaryOddToPrimary("1"));

  it("an even dice goes to the canary, an odd one stays on the primary (--concurrency 2)", () => evenToCanaryOddToPrimary("2"));
});
