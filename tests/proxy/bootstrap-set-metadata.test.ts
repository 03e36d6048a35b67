// Issue #15: `envoy.filters.http.set_metadata` before a Wasm filter, so the filter reads dynamic
// metadata that the earlier filter set (the `metadata` property), as in the envoy_filter_metadata
// example, whose README uses Lua for the same purpose. The bootstrap follows Envoy's docs:
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/set_metadata_filter
// (envoy source/extensions/filters/http/set_metadata/set_metadata_filter.cc). Other HTTP filters:
// refused with their path unless harmless.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { refusedBootstrap, runBootstrap } from "./bootstrap-run";
import { http1Request } from "./proxy-test-helpers";

const WELCOME = "Welcome, set the `x-custom-metadata` header to change the response!\n";

/** The README's bootstrap with `filters` (YAML list items, indented for http_filters) before the router. */
function bootstrap(filters: string): string {
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
              - match: { prefix: "/" }
                direct_response:
                  status: 200
                  body:
                    inline_string: "Welcome, set the \`x-custom-metadata\` header to change the response!\\n"
          http_filters:
${filters}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;
}

const SET_METADATA = (value: string, namespace = "envoy.filters.http.lua") => `
          - name: envoy.filters.http.set_metadata
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.set_metadata.v3.Config
              metadata:
              - metadata_namespace: ${namespace}
                value:
                  uppercased-custom-metadata: ${value}`;

const WASM = `
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: envoy_filter_metadata
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code:
                    local:
                      filename: ./examples/envoy_filter_metadata/build/envoy_filter_metadata.wasm`;

describe("bootstrap: set_metadata before a Wasm filter", () => {
  for (const concurrency of ["1", "2"]) {
    it(`the Wasm filter reads the metadata set_metadata wrote (--concurrency ${concurrency})`, async () => {
      const run = await runBootstrap(bootstrap(SET_METADATA("FOO") + WASM), ["--concurrency", concurrency]);
      try {
        const response = await http1Request(`${run.url}/`);
        assert.equal(response.status, 200);
        assert.equal(response.headers["powered-by"], "proxy-wasm");
        assert.equal(response.headers["uppercased-metadata"], "FOO");
        assert.equal(response.body, 'Custom response with Envoy metadata: "FOO"\n');
        assert.doesNotMatch(run.stderr(), /unsupported/, run.stderr());
      } finally {
        await run.stop();
      }
    });
  }

  it("without set_metadata (or in another namespace) the route's direct response comes back", async () => {
    for (const filters of [WASM, SET_METADATA("FOO", "other.namespace") + WASM]) {
      const run = await runBootstrap(bootstrap(filters));
      try {
        const response = await http1Request(`${run.url}/`);
        assert.equal(response.status, 200);
        assert.equal(response.body, WELCOME);
        assert.equal(response.headers["uppercased-metadata"], undefined);
      } finally {
        await run.stop();
      }
    }
  });

  it("set_metadata after the Wasm filter is too late for its request headers", async () => {
    const run = await runBootstrap(bootstrap(WASM + SET_METADATA("FOO")));
    try {
      assert.equal((await http1Request(`${run.url}/`)).body, WELCOME);
    } finally {
      await run.stop();
    }
  });

  it("a second entry for the same namespace is merged only with allow_overwrite; otherwise overwrite_denied counts", async () => {
    const second = (allow: boolean) => `
          - name: envoy.filters.http.set_metadata
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.set_metadata.v3.Config
              metadata:
              - metadata_namespace: envoy.filters.http.lua
                allow_overwrite: ${allow}
                value:
                  uppercased-custom-metadata: BAR`;
    const merged = await runBootstrap(bootstrap(SET_METADATA("FOO") + second(true) + WASM));
    try {
      assert.equal((await http1Request(`${merged.url}/`)).headers["uppercased-metadata"], "BAR");
    } finally {
      await merged.stop();
    }
    const denied = await runBootstrap(bootstrap(SET_METADATA("FOO") + second(false) + WASM));
    try {
      assert.equal((await http1Request(`${denied.url}/`)).headers["uppercased-metadata"], "FOO");
      const stats = await http1Request(`${denied.adminUrl}/stats?filter=set_metadata`);
      assert.match(stats.body, /^http\.ingress_http\.set_metadata\.overwrite_denied: 1$/m);
    } finally {
      await denied.stop();
    }
  });
});

describe("bootstrap: other HTTP filters", () => {
  const FILTERS = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters";

  it("a filter that may change requests (Lua) is refused with its path", async () => {
    const lua = `
          - name: envoy.filters.http.lua
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
              default_source_code: { inline_string: "function envoy_on_request(r) end" }`;
    const { code, stderr } = await refusedBootstrap(bootstrap(lua + WASM));
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `error: ${FILTERS}[0]: HTTP filter envoy.filters.http.lua is not supported by the dev proxy (it may change requests or responses; supported: envoy.filters.http.wasm, envoy.filters.http.set_metadata, envoy.filters.http.router)\n`,
    );
  });

  it("a harmless filter and a disabled one are skipped with a warning naming them", async () => {
    const filters = `
          - name: envoy.filters.http.grpc_stats
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig
          - name: envoy.filters.http.lua
            disabled: true
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua`;
    const run = await runBootstrap(bootstrap(filters + SET_METADATA("FOO") + WASM));
    try {
      assert.equal((await http1Request(`${run.url}/`)).headers["uppercased-metadata"], "FOO");
      assert.match(run.stderr(), new RegExp(`unsupported: ${FILTERS.replace(/[.[\]]/g, "\\$&")}\\[0\\]: HTTP filter envoy\\.filters\\.http\\.grpc_stats is not supported by the dev proxy; skipped \\(it only keeps gRPC stats\\)`));
      assert.match(run.stderr(), /http_filters\[1\]: HTTP filter envoy\.filters\.http\.lua is disabled \(it can only be enabled per route, which the dev proxy does not support\); not run/);
    } finally {
      await run.stop();
    }
  });

  it("set_metadata between two Wasm filters needs one thread", async () => {
    const filters = WASM + SET_METADATA("FOO") + WASM.replace("name: envoy_filter_metadata", "name: second");
    const { code, stderr } = await refusedBootstrap(bootstrap(filters), ["--concurrency", "2", "--log-level", "error"]);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      "error: the dev proxy did not start: envoy.filters.http.set_metadata between two Wasm filters needs --concurrency 1 (with worker threads the Wasm filters run as one unit)\n",
    );
  });
});
