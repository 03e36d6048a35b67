// Issue #15: an `envoy.filters.http.wasm` whose typed_config is wrapped in a TypedStruct, as
// Istio's EnvoyFilter and many published examples write it. Bootstraps follow Envoy's docs:
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/wasm_filter and
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/extension.proto (typed_config
// may be a udpa.type.v1.TypedStruct / xds.type.v3.TypedStruct). Envoy converts the struct into the
// named message (source/common/config/registry_utils.cc, RegistryUtils::translateOpaqueConfig).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { refusedBootstrap, runBootstrap } from "./bootstrap-run";
import { http1Request, startUpstream } from "./proxy-test-helpers";

/** A bootstrap whose one HTTP filter's typed_config is `typedConfig` (indented to fit). */
function bootstrap(upstreamPort: number, typedConfig: string): string {
  return `
static_resources:
  listeners:
  - name: listener_0
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: local_route
            virtual_hosts:
            - name: backend
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: backend }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
${typedConfig}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;
}

const PLUGIN_CONFIG = `
                config:
                  name: add_header
                  configuration:
                    "@type": type.googleapis.com/google.protobuf.StringValue
                    value: '{"name": "x-wasm-header", "value": "demo-wasm"}'
                  vm_config:
                    runtime: envoy.wasm.runtime.v8
                    code:
                      local:
                        filename: examples/add_header/build/add_header.wasm`;

const typedStruct = (wrapper: string, typeUrl = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm") => `
              "@type": type.googleapis.com/${wrapper}
              type_url: ${typeUrl}
              value:${PLUGIN_CONFIG.replace(/\n {16}/g, "\n                ")}`;

describe("bootstrap: envoy.filters.http.wasm wrapped in a TypedStruct", () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let port: number;
  before(async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`upstream saw ${req.url}`);
    });
    port = Number(new URL(upstream.url).port);
  });
  after(() => upstream.close());

  /** Runs the bootstrap with the filter wrapped in `wrapper` and checks add_header's response. */
  const runsWrapped = async (wrapper: string) => {
    const run = await runBootstrap(bootstrap(port, typedStruct(wrapper)));
    try {
      const response = await http1Request(`${run.url}/typed`);
      assert.equal(response.status, 200);
      assert.equal(response.body, "upstream saw /typed");
      assert.equal(response.headers["x-wasm-header"], "demo-wasm");
      assert.equal(response.headers["hello"], "world!");
      assert.equal(response.headers["location"], "envoy-wasm");
      assert.doesNotMatch(run.stderr(), /unsupported/, run.stderr());
    } finally {
      await run.stop();
    }
  };

  it("runs the filter from a udpa.type.v1.TypedStruct exactly as from the plain config", () => runsWrapped("udpa.type.v1.TypedStruct"));

  it("runs the filter from a xds.type.v3.TypedStruct exactly as from the plain config", () => runsWrapped("xds.type.v3.TypedStruct"));

  it("runs the plain typed_config the same way", async () => {
    const plain = `
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm${PLUGIN_CONFIG.replace(/\n {16}/g, "\n              ")}`;
    const run = await runBootstrap(bootstrap(port, plain));
    try {
      const response = await http1Request(`${run.url}/plain`);
      assert.equal(response.headers["x-wasm-header"], "demo-wasm");
      assert.equal(response.headers["hello"], "world!");
    } finally {
      await run.stop();
    }
  });

  it("refuses a TypedStruct that holds another message, naming the field", async () => {
    const wrong = typedStruct("udpa.type.v1.TypedStruct", "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router");
    const { code, stderr } = await refusedBootstrap(bootstrap(port, wrong));
    assert.equal(code, 1);
    assert.equal(
      stderr,
      'error: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.type_url: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" is not envoy.extensions.filters.http.wasm.v3.Wasm\n',
    );
  });

  it("refuses a TypedStruct without type_url", async () => {
    const { code, stderr } = await refusedBootstrap(bootstrap(port, typedStruct("xds.type.v3.TypedStruct").replace(/\n\s+type_url: .*/, "")));
    assert.equal(code, 1);
    assert.match(stderr, /http_filters\[0\]\.typed_config\.type_url: missing \(a xds\.type\.v3\.TypedStruct names the message it holds\)/);
  });
});
