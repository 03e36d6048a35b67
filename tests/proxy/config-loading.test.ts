import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError } from "../../src/proxy/config/dev-proxy-config";
import { loadConfigFile, parseHostPort } from "../../src/proxy/config/load-config-file";

const dir = mkdtempSync(join(tmpdir(), "pwas-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const file = (text: string, extension = "yaml"): string => {
  const path = join(dir, `config-${counter++}.${extension}`);
  writeFileSync(path, text);
  return path;
};

const ENVOY_BOOTSTRAP = `
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 9901 }
static_resources:
  listeners:
  - name: main
    address:
      socket_address: { address: 0.0.0.0, port_value: 10000 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          codec_type: AUTO
          use_remote_address: true
          route_config:
            name: local_route
            virtual_hosts:
            - name: backend
              domains: ["*"]
              routes:
              - match: { prefix: "/api" }
                route: { cluster: backend, timeout: 2.5s }
              - match: { prefix: "/" }
                route: { cluster: backend }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: add_header
                root_id: add_header_root
                failure_policy: FAIL_OPEN
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"name": "x-wasm", "value": "1"}'
                vm_config:
                  vm_id: vm1
                  runtime: envoy.wasm.runtime.v8
                  configuration:
                    "@type": type.googleapis.com/google.protobuf.BytesValue
                    value: aGk=
                  code:
                    local:
                      filename: build/add_header.wasm
          - name: envoy.filters.http.cors
            typed_config: {}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    type: STRICT_DNS
    connect_timeout: 0.25s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: 8080 }
  - name: auth_service
    type: STATIC
    http2_protocol_options: {}
    transport_socket: { name: envoy.transport_sockets.tls }
    load_assignment:
      cluster_name: auth_service
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: 9000 }
`;

describe("Envoy v3 static bootstrap", () => {
  it("reads listener, admin, routes, wasm PluginConfig and clusters", () => {
    const { config, warnings } = loadConfigFile(file(ENVOY_BOOTSTRAP), "/work/project");
    assert.deepEqual(config.listener, { name: "main", host: "0.0.0.0", port: 10000 });
    assert.deepEqual(config.admin, { host: "127.0.0.1", port: 9901 });
    assert.equal(config.echoUpstream, false);
    assert.deepEqual(config.routes, config.routeTable?.virtualHosts[0].routes);
    assert.deepEqual(config.routeTable, {
      name: "local_route",
      virtualHosts: [
        {
          name: "backend",
          domains: ["*"],
          routes: [
            { prefix: "/api", cluster: "backend", timeoutMs: 2500 },
            { prefix: "/", cluster: "backend", timeoutMs: 15000 },
          ],
        },
      ],
    });
    assert.equal(config.filters.length, 1);
    const [filter] = config.filters;
    assert.equal(filter.name, "add_header");
    assert.equal(filter.rootId, "add_header_root");
    assert.equal(filter.vmId, "vm1");
    assert.equal(filter.wasmPath, "/work/project/build/add_header.wasm");
    assert.equal(filter.pluginConfiguration.toString(), '{"name": "x-wasm", "value": "1"}');
    // Named for the configuration check's messages; a StringValue is the user's text, so positions in it hold.
    assert.deepEqual(filter.pluginConfigurationOrigin, {
      where: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.configuration",
      asWritten: true,
    });
    assert.equal(filter.vmConfiguration.toString(), "hi");
    assert.equal(filter.failurePolicy, "FAIL_OPEN");
    assert.deepEqual(
      config.clusters.map((c) => [c.name, c.url.href, c.http2, c.connectTimeoutMs]),
      [
        ["backend", "http://127.0.0.1:8080/", false, 250],
        ["auth_service", "http://127.0.0.1:9000/", true, 5000],
      ],
    );
    // A TLS transport socket without typed_config is Envoy's empty UpstreamTlsContext: TLS, no SNI, no verification.
    assert.deepEqual(config.clusters.map((c) => c.tls ?? null), [
      null,
      { sni: undefined, trustedCa: undefined, certificateChain: undefined, privateKey: undefined, alpnProtocols: [] },
    ]);
    assert.deepEqual(warnings, [
      "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.use_remote_address: not supported by the dev proxy; ignored",
      "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[1]: HTTP filter envoy.filters.http.cors is not supported by the dev proxy; skipped (it acts only on CORS policies of routes, which the dev proxy ignores with a warning)",
    ]);
  });

  it("rejects a route to an undefined cluster", () => {
    const text = ENVOY_BOOTSTRAP.replace("route: { cluster: backend }", "route: { cluster: nowhere }");
    assert.throws(() => loadConfigFile(file(text)), {
      name: "ConfigError",
      message: 'route for prefix "/" names cluster "nowhere", which is not defined in static_resources.clusters',
    });
  });

  it("rejects a router that is not last", () => {
    const text = ENVOY_BOOTSTRAP.replace("          - name: envoy.filters.http.cors\n            typed_config: {}\n", "").replace(
      "          - name: envoy.filters.http.wasm",
      "          - name: envoy.filters.http.router\n          - name: envoy.filters.http.wasm",
    );
    assert.throws(() => loadConfigFile(file(text)), /envoy\.filters\.http\.router must be the last filter/);
  });

  it("rejects remote code and names the field", () => {
    const text = ENVOY_BOOTSTRAP.replace(
      "                    local:\n                      filename: build/add_header.wasm",
      "                    remote:\n                      http_uri: { uri: http://x/y.wasm }",
    );
    assert.throws(() => loadConfigFile(file(text)), /code\.local\.filename: missing \(only local files are supported\)/);
  });
});

describe("the dev proxy's own YAML/JSON format", () => {
  it("reads every field, resolving module paths against the file's folder", () => {
    const path = file(`
listen: 127.0.0.1:18000
admin: false
upstream: http://127.0.0.1:8080
clusters:
  httpbin: http://127.0.0.1:8081
  grpc: { url: "http://127.0.0.1:50051", http2: true, connect_timeout_ms: 1000 }
routes:
  - { prefix: /bin, cluster: httpbin, timeout_ms: 100 }
  - { prefix: /, cluster: upstream }
filters:
  - wasm: build/f.wasm
    name: f
    configuration: { name: x-a, value: "1" }
    failure_policy: fail_reload
log_level: warn
concurrency: 1
hot_reload: true
callback_time_limit_ms: 250
surprise: 1
`);
    const { config, warnings } = loadConfigFile(path);
    assert.deepEqual(config.listener, { host: "127.0.0.1", port: 18000 });
    assert.equal(config.admin, null);
    assert.equal(config.echoUpstream, false);
    assert.deepEqual(
      config.clusters.map((c) => [c.name, c.url.href, c.http2, c.connectTimeoutMs]),
      [
        ["upstream", "http://127.0.0.1:8080/", false, 5000],
        ["httpbin", "http://127.0.0.1:8081/", false, 5000],
        ["grpc", "http://127.0.0.1:50051/", true, 1000],
      ],
    );
    assert.deepEqual(config.routes, [
      { prefix: "/bin", cluster: "httpbin", timeoutMs: 100 },
      { prefix: "/", cluster: "upstream", timeoutMs: 15000 },
    ]);
    assert.equal(config.filters[0].wasmPath, join(dir, "build/f.wasm"));
    assert.equal(config.filters[0].pluginConfiguration.toString(), '{"name":"x-a","value":"1"}');
    // JSON made from a mapping: positions in it are not the user's.
    assert.deepEqual(config.filters[0].pluginConfigurationOrigin, { where: "filters[0].configuration", asWritten: false });
    assert.equal(config.filters[0].failurePolicy, "FAIL_RELOAD");
    assert.equal(config.logLevel, "warning");
    assert.equal(config.hotReload, true);
    assert.equal(config.callbackTimeLimitMs, 250);
    assert.deepEqual(warnings, ["surprise: unknown or unsupported field; ignored"]);
  });

  it("accepts JSON", () => {
    const { config } = loadConfigFile(file('{"listen": "12345", "upstream": "http://127.0.0.1:1"}', "json"));
    assert.deepEqual(config.listener, { host: "127.0.0.1", port: 12345 });
  });

  it("rejects bad values with the field's name", () => {
    assert.throws(() => loadConfigFile(file("upstream: https://example.com")), {
      name: "ConfigError",
      message: "upstream: only http:// upstreams are supported, got https://",
    });
    assert.throws(() => loadConfigFile(file("filters: [{ name: x }]")), /filters\[0\]\.wasm: missing/);
    assert.throws(() => loadConfigFile(file("filters: [{ wasm: a.wasm, failure_policy: SOMETIMES }]")), /unknown failure policy "SOMETIMES"/);
    assert.throws(() => loadConfigFile(file("routes: [{ prefix: /, cluster: ghost }]")), /"ghost" is not defined in clusters/);
    assert.throws(() => loadConfigFile(file("concurrency: 0")), /concurrency: expected a positive integer, got 0/);
    assert.throws(() => loadConfigFile(file("listen: [1")), ConfigError);
    assert.throws(() => loadConfigFile(join(dir, "missing.yaml")), /cannot read config file/);
  });

  it("parses host:port forms", () => {
    assert.deepEqual(parseHostPort("10000", "x"), { host: "127.0.0.1", port: 10000 });
    assert.deepEqual(parseHostPort("0.0.0.0:80", "x"), { host: "0.0.0.0", port: 80 });
    assert.deepEqual(parseHostPort("[::1]:80", "x"), { host: "::1", port: 80 });
    assert.throws(() => parseHostPort("host:99999", "--listen"), /--listen: port 99999 is out of range/);
    assert.throws(() => parseHostPort("nope", "--listen"), /--listen: expected host:port or a port, got "nope"/);
  });
});
