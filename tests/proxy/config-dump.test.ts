import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_ACCESS_LOG_FORMAT } from "../../src/proxy/access-log/access-log-format";
import { configDump, durationText, queryConfigDump } from "../../src/proxy/admin/config-dump";
import { defaultConfig } from "../../src/proxy/config/dev-proxy-config";
import { configFromEnvoyBootstrap } from "../../src/proxy/config/envoy-bootstrap";
import { clusterFromUrl } from "../../src/proxy/config/load-config-file";

describe("/config_dump content", () => {
  it("a wasm filter, an access log and an HTTP/2 cluster appear as Envoy's protos print them", () => {
    const config = defaultConfig();
    const grpc = clusterFromUrl("grpc", "http://localhost:50051", "test");
    grpc.http2 = true;
    grpc.connectTimeoutMs = 250;
    config.clusters = [grpc];
    config.routes = [{ prefix: "/api", cluster: "grpc", timeoutMs: 1500 }];
    config.filters = [
      {
        name: "auth",
        rootId: "auth_root",
        vmId: "",
        wasmPath: "/srv/auth.wasm",
        pluginConfiguration: Buffer.from('{"header":"x-a"}'),
        vmConfiguration: Buffer.alloc(0),
        failurePolicy: "FAIL_OPEN",
        allowOnHeadersStopIteration: false,
      },
    ];
    config.accessLogs = [{ path: "/dev/stdout", format: DEFAULT_ACCESS_LOG_FORMAT }];
    const dump = configDump(config, config.clusters, new Date("2026-01-02T03:04:05.678Z")) as { configs: Array<Record<string, any>> };
    const bootstrap = dump.configs[0].bootstrap;
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    assert.deepEqual(hcm.http_filters[0], {
      name: "envoy.filters.http.wasm",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        config: {
          name: "auth",
          root_id: "auth_root",
          vm_config: { runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "/srv/auth.wasm" } } },
          configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: '{"header":"x-a"}' },
          failure_policy: "FAIL_OPEN",
        },
      },
    });
    assert.deepEqual(hcm.access_log, [
      {
        name: "envoy.access_loggers.stdout",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
          log_format: { text_format_source: { inline_string: DEFAULT_ACCESS_LOG_FORMAT } },
        },
      },
    ]);
    assert.deepEqual(hcm.route_config.virtual_hosts[0].routes, [{ match: { prefix: "/api" }, route: { cluster: "grpc", timeout: "1.500s" } }]);
    const cluster = bootstrap.static_resources.clusters[0];
    assert.equal(cluster.type, "STRICT_DNS");
    assert.equal(cluster.connect_timeout, "0.250s");
    assert.deepEqual(cluster.typed_extension_protocol_options, {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    });
    assert.equal(dump.configs[1].static_clusters[0].last_updated, "2026-01-02T03:04:05.678Z");
  });

  it("durations print as protobuf JSON does", () => {
    assert.deepEqual([durationText(15_000), durationText(200), durationText(0), durationText(1_001)], ["15s", "0.200s", "0s", "1.001s"]);
  });
});

describe("/config_dump query parameters", () => {
  const config = defaultConfig();
  config.clusters = [clusterFromUrl("web", "http://127.0.0.1:8080", "test")];
  const dump = configDump(config, config.clusters, new Date("2026-01-02T03:04:05.678Z")) as { configs: Array<Record<string, unknown>> };
  const query = (text: string) => queryConfigDump(dump, new URLSearchParams(text));

  it("resource= lists the elements of that repeated field as configs of their own type", () => {
    const answer = query("resource=static_clusters");
    assert.equal(answer.status, 200);
    const configs = (answer.body as { configs: Array<Record<string, any>> }).configs;
    assert.deepEqual(
      configs.map((c) => [c["@type"], c.cluster.name, c.last_updated]),
      [["type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster", "web", "2026-01-02T03:04:05.678Z"]],
    );
    assert.deepEqual(query("resource=dynamic_active_clusters"), { status: 200, body: {} });
    assert.deepEqual(query("resource=no_such_field"), { status: 404, body: "no_such_field not found in config dump" });
  });

  it("mask= keeps only the given fields, and is refused when it matches nothing", () => {
    const answer = query("mask=bootstrap.admin");
    assert.equal(answer.status, 200);
    assert.deepEqual((answer.body as { configs: unknown[] }).configs, [
      { "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump", bootstrap: { admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } } } },
    ]);
    const names = query("resource=static_clusters&mask=cluster.name");
    assert.deepEqual((names.body as { configs: unknown[] }).configs, [
      { "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster", cluster: { name: "web" } },
    ]);
    assert.deepEqual(query("mask=nothing_here"), { status: 400, body: "FieldMask nothing_here could not be successfully applied to any configs." });
  });
});

describe("/config_dump with TCP listeners and TLS", () => {
  it("a TCP listener shows its network filters and tcp_proxy; TLS shows as transport sockets with the private key redacted; no HTTP listener when none is served", () => {
    const config = defaultConfig();
    config.serveHttp = false;
    const web = clusterFromUrl("web", "http://127.0.0.1:9000", "test");
    web.tls = { sni: "web.internal", trustedCa: Buffer.from("CA PEM"), certificateChain: undefined, privateKey: undefined, alpnProtocols: [] };
    config.clusters = [web];
    config.tcpListeners = [
      {
        name: "tcp_in",
        address: { host: "127.0.0.1", port: 10001 },
        tls: { certificateChain: Buffer.from("CERT PEM"), privateKey: Buffer.from("KEY PEM"), alpnProtocols: ["h2"], clientCa: undefined, requireClientCertificate: false },
        filters: [
          {
            name: "net",
            rootId: "",
            vmId: "",
            wasmPath: "/srv/net.wasm",
            pluginConfiguration: Buffer.alloc(0),
            vmConfiguration: Buffer.alloc(0),
            failurePolicy: "FAIL_CLOSED",
            allowOnHeadersStopIteration: false,
          },
        ],
        terminal: { kind: "tcp_proxy", statPrefix: "tcp", cluster: "web", clusterPath: "x", idleTimeoutMs: 30_000 },
      },
    ];
    const dump = configDump(config, config.clusters, new Date(0)) as { configs: Array<Record<string, any>> };
    const listeners = dump.configs[2].static_listeners.map((entry: { listener: unknown }) => entry.listener);
    assert.deepEqual(listeners, [
      {
        "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
        name: "tcp_in",
        address: { socket_address: { address: "127.0.0.1", port_value: 10001 } },
        filter_chains: [
          {
            filters: [
              {
                name: "envoy.filters.network.wasm",
                typed_config: {
                  "@type": "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
                  config: { name: "net", vm_config: { runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "/srv/net.wasm" } } } },
                },
              },
              {
                name: "envoy.filters.network.tcp_proxy",
                typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", stat_prefix: "tcp", cluster: "web", idle_timeout: "30s" },
              },
            ],
            transport_socket: {
              name: "envoy.transport_sockets.tls",
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                common_tls_context: {
                  tls_certificates: [{ certificate_chain: { inline_string: "CERT PEM" }, private_key: { inline_string: "[redacted]" } }],
                  alpn_protocols: ["h2"],
                },
              },
            },
          },
        ],
      },
    ]);
    assert.equal(dump.configs[3].static_route_configs, undefined);
    assert.deepEqual(dump.configs[1].static_clusters[0].cluster.transport_socket, {
      name: "envoy.transport_sockets.tls",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        common_tls_context: { validation_context: { trusted_ca: { inline_string: "CA PEM" } } },
        sni: "web.internal",
      },
    });
  });
});

describe("/config_dump of an Envoy bootstrap's route table and clusters", () => {
  it("shows the route_config as read (virtual hosts, domains, matchers, direct_response, prefix_rewrite), the listener's name and each cluster's type and protocol", () => {
    const { config } = configFromEnvoyBootstrap(
      {
        static_resources: {
          listeners: [
            {
              name: "ingress",
              address: { socket_address: { address: "127.0.0.1", port_value: 10000 } },
              filter_chains: [
                {
                  filters: [
                    {
                      name: "envoy.filters.network.http_connection_manager",
                      typed_config: {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        stat_prefix: "ingress_http",
                        strip_any_host_port: true,
                        route_config: {
                          name: "main_routes",
                          ignore_port_in_host_matching: true,
                          virtual_hosts: [
                            {
                              name: "api",
                              domains: ["api.example.com", "*.api.example.com"],
                              routes: [
                                {
                                  name: "v1",
                                  match: { prefix: "/v1/", headers: [{ name: "x-tenant", string_match: { prefix: "t-", ignore_case: true } }, { name: "x-debug", present_match: false }] },
                                  route: { cluster: "grpc_backend", prefix_rewrite: "/", host_rewrite_literal: "backend.internal", timeout: "2s" },
                                  response_headers_to_add: [{ header: { key: "x-route", value: "v1" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
                                },
                                { match: { safe_regex: { regex: "/items/[0-9]+" } }, route: { cluster: "web" } },
                              ],
                            },
                            { name: "fallback", domains: ["*"], routes: [{ match: { path: "/health" }, direct_response: { status: 200, body: { inline_string: "ok" } } }] },
                          ],
                        },
                        http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
                      },
                    },
                  ],
                },
              ],
            },
          ],
          clusters: [
            {
              name: "grpc_backend",
              type: "LOGICAL_DNS",
              load_assignment: { cluster_name: "grpc_backend", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "localhost", port_value: 50051 } } } }] }] },
              typed_extension_protocol_options: {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                  "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                  explicit_http_config: { http2_protocol_options: {} },
                },
              },
            },
            {
              name: "web",
              type: "STATIC",
              load_assignment: { cluster_name: "web", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: 8080 } } } }] }] },
              typed_extension_protocol_options: {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                  "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                  use_downstream_protocol_config: {},
                },
              },
            },
          ],
        },
      },
      "/tmp",
    );
    const dump = configDump(config, config.clusters, new Date(0)) as { configs: Array<Record<string, any>> };
    const listener = dump.configs[2].static_listeners[0].listener;
    assert.equal(listener.name, "ingress");
    const hcm = listener.filter_chains[0].filters[0].typed_config;
    assert.equal(hcm.strip_any_host_port, true);
    assert.deepEqual(dump.configs[3].static_route_configs[0].route_config, {
      "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
      name: "main_routes",
      virtual_hosts: [
        {
          name: "api",
          domains: ["api.example.com", "*.api.example.com"],
          routes: [
            {
              name: "v1",
              match: {
                prefix: "/v1/",
                headers: [
                  { name: "x-tenant", string_match: { prefix: "t-", ignore_case: true } },
                  { name: "x-debug", present_match: false },
                ],
              },
              route: { cluster: "grpc_backend", timeout: "2s", prefix_rewrite: "/", host_rewrite_literal: "backend.internal" },
              response_headers_to_add: [{ header: { key: "x-route", value: "v1" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
            },
            { match: { safe_regex: { regex: "/items/[0-9]+" } }, route: { cluster: "web", timeout: "15s" } },
          ],
        },
        { name: "fallback", domains: ["*"], routes: [{ match: { path: "/health" }, direct_response: { status: 200, body: { inline_string: "ok" } } }] },
      ],
      ignore_port_in_host_matching: true,
    });
    const { "@type": _type, ...inline } = dump.configs[3].static_route_configs[0].route_config;
    assert.deepEqual(hcm.route_config, inline);
    const clusters = dump.configs[1].static_clusters.map((entry: { cluster: Record<string, any> }) => entry.cluster);
    assert.deepEqual(
      clusters.map((cluster: Record<string, any>) => [cluster.name, cluster.type, cluster.typed_extension_protocol_options?.["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]]),
      [
        ["grpc_backend", "LOGICAL_DNS", { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} } }],
        ["web", "STATIC", { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", use_downstream_protocol_config: {} }],
      ],
    );
  });
});
