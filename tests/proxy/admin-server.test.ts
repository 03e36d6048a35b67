import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { http1Request, startTestProxy, until } from "./proxy-test-helpers";

describe("admin endpoint", () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>["proxy"];
  before(async () => {
    ({ proxy } = await startTestProxy());
    proxy.stats.addSource(() => [
      { name: "wasmcustom.add_header.hits", kind: "counter", value: 3 },
      { name: "wasmcustom.inflight", kind: "gauge", value: 2 },
    ]);
    await http1Request(`${proxy.url}/`);
    // The request says `connection: close` (no agent): the proxy closes after the answer; wait for that.
    const destroyed = () => proxy.stats.snapshot().find((s) => s.name === "http.ingress_http.downstream_cx_destroy")?.value;
    await until(() => destroyed() === 1, "the connection close to be counted");
  });
  after(() => proxy.close());

  it("/ready answers LIVE", async () => {
    const response = await fetch(`${proxy.adminUrl}/ready`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "LIVE\n");
  });

  it("/stats lists proxy and filter stats, sorted, as `name: value`", async () => {
    const text = await (await fetch(`${proxy.adminUrl}/stats`)).text();
    assert.equal(
      text,
      [
        "cluster.upstream.external.upstream_rq_200: 1",
        "cluster.upstream.external.upstream_rq_2xx: 1",
        "cluster.upstream.external.upstream_rq_completed: 1",
        "cluster.upstream.upstream_cx_active: 1",
        "cluster.upstream.upstream_cx_total: 1",
        "cluster.upstream.upstream_rq_200: 1",
        "cluster.upstream.upstream_rq_2xx: 1",
        "cluster.upstream.upstream_rq_completed: 1",
        "cluster.upstream.upstream_rq_total: 1",
        "http.ingress_http.downstream_cx_active: 0",
        "http.ingress_http.downstream_cx_destroy: 1",
        "http.ingress_http.downstream_cx_destroy_local: 1",
        "http.ingress_http.downstream_cx_total: 1",
        "http.ingress_http.downstream_rq_2xx: 1",
        "http.ingress_http.downstream_rq_total: 1",
        "wasmcustom.add_header.hits: 3",
        "wasmcustom.inflight: 2",
        "",
      ].join("\n"),
    );
    const filtered = await (await fetch(`${proxy.adminUrl}/stats?filter=wasmcustom`)).text();
    assert.equal(filtered, "wasmcustom.add_header.hits: 3\nwasmcustom.inflight: 2\n");
    const bad = await fetch(`${proxy.adminUrl}/stats?filter=(`);
    assert.equal(bad.status, 400);
  });

  it("/stats/prometheus names filter metrics without prefix and proxy stats as Envoy does", async () => {
    const text = await (await fetch(`${proxy.adminUrl}/stats/prometheus`)).text();
    assert.match(text, /^# TYPE add_header_hits counter\nadd_header_hits\{\} 3$/m);
    assert.match(text, /^# TYPE inflight gauge\ninflight\{\} 2$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="upstream"\} 1$/m);
    assert.match(text, /^envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="ingress_http"\} 1$/m);
    // Envoy's response code tag extractors.
    assert.match(text, /^# TYPE envoy_cluster_upstream_rq counter\nenvoy_cluster_upstream_rq\{envoy_response_code="200",envoy_cluster_name="upstream"\} 1$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_xx\{envoy_response_code_class="2",envoy_cluster_name="upstream"\} 1$/m);
    assert.match(text, /^envoy_cluster_external_upstream_rq\{envoy_response_code="200",envoy_cluster_name="upstream"\} 1$/m);
    assert.match(text, /^envoy_http_downstream_rq_xx\{envoy_response_code_class="2",envoy_http_conn_manager_prefix="ingress_http"\} 1$/m);
  });

  it("/logging needs POST, as Envoy's admin: any GET is 405 and changes nothing", async () => {
    const listed = await fetch(`${proxy.adminUrl}/logging`);
    assert.equal(listed.status, 405);
    assert.equal(await listed.text(), "Method GET not allowed, POST required.");
    const viaGet = await fetch(`${proxy.adminUrl}/logging?level=debug`);
    assert.equal(viaGet.status, 405);
    assert.equal(proxy.logger.level, "info");
  });

  it("/logging?<name>=<level> changes only that logger; ?level= changes all; ?paths= the listed ones", async () => {
    try {
      const one = await fetch(`${proxy.adminUrl}/logging?wasm=debug`, { method: "POST" });
      assert.equal(one.status, 200);
      assert.equal(
        await one.text(),
        "active loggers:\n  admin: info\n  config: info\n  http: info\n  main: info\n  router: info\n  upstream: info\n  wasm: debug\n\n",
      );
      assert.equal(proxy.logger.levelOf("wasm"), "debug");
      assert.equal(proxy.logger.levelOf("http"), "info");

      const paths = await fetch(`${proxy.adminUrl}/logging?paths=http:trace,router:error`, { method: "POST" });
      assert.equal(paths.status, 200);
      assert.deepEqual(
        [proxy.logger.levelOf("http"), proxy.logger.levelOf("router"), proxy.logger.levelOf("wasm"), proxy.logger.levelOf("main")],
        ["trace", "error", "debug", "info"],
      );

      const all = await fetch(`${proxy.adminUrl}/logging?level=warning`, { method: "POST" });
      assert.equal(all.status, 200);
      assert.match(await all.text(), /^active loggers:\n( {2}[a-z]+: warning\n){7}\n$/);
    } finally {
      await fetch(`${proxy.adminUrl}/logging?level=info`, { method: "POST" });
    }
  });

  it("/logging answers 400 with Envoy's error and usage to an unknown logger, level or parameter, and changes nothing", async () => {
    const usage =
      "usage: /logging?<name>=<level> (change single level)\n" +
      "usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n" +
      "usage: /logging?level=<level> (change all levels)\n" +
      "levels: trace debug info warning error critical off \n";
    const cases: Array<[string, string]> = [
      ["level=loud", "unknown logger level"],
      ["level=warn", "unknown logger level"],
      ["nosuchlogger=debug", "unknown logger name"],
      ["paths=wasm:debug,nosuch:debug", "unknown logger name"],
      ["paths=wasm:", "empty logger name or empty logger level"],
      ["wasm=debug&http=debug", "invalid number of parameters"],
    ];
    for (const [query, error] of cases) {
      const response = await fetch(`${proxy.adminUrl}/logging?${query}`, { method: "POST" });
      assert.equal(response.status, 400, query);
      const text = await response.text();
      assert.ok(text.startsWith(`error: ${error}\n\n${usage}active loggers:\n`), `${query}: ${text}`);
      assert.equal(proxy.logger.levelOf("wasm"), "info", query);
    }
  });

  it("answers 404 for unknown paths", async () => {
    const response = await fetch(`${proxy.adminUrl}/nope`);
    assert.equal(response.status, 404);
  });

  it("/clusters lists each cluster as Envoy's text format does, host stats from the cluster's traffic", async () => {
    const response = await fetch(`${proxy.adminUrl}/clusters`);
    assert.equal(response.status, 200);
    const host = new URL(proxy.echoUrl!).host;
    const text = (await response.text()).replace(/::cx_active::[01]\n/, "::cx_active::<0 or 1>\n");
    assert.equal(
      text,
      [
        "upstream::observability_name::upstream",
        "upstream::default_priority::max_connections::1024",
        "upstream::default_priority::max_pending_requests::1024",
        "upstream::default_priority::max_requests::1024",
        "upstream::default_priority::max_retries::3",
        "upstream::high_priority::max_connections::1024",
        "upstream::high_priority::max_pending_requests::1024",
        "upstream::high_priority::max_requests::1024",
        "upstream::high_priority::max_retries::3",
        "upstream::added_via_api::false",
        `upstream::${host}::cx_active::<0 or 1>`,
        `upstream::${host}::cx_connect_fail::0`,
        `upstream::${host}::cx_total::1`,
        `upstream::${host}::rq_active::0`,
        `upstream::${host}::rq_error::0`,
        `upstream::${host}::rq_success::1`,
        `upstream::${host}::rq_timeout::0`,
        `upstream::${host}::rq_total::1`,
        `upstream::${host}::hostname::`,
        `upstream::${host}::health_flags::healthy`,
        `upstream::${host}::weight::1`,
        `upstream::${host}::region::`,
        `upstream::${host}::zone::`,
        `upstream::${host}::sub_zone::`,
        `upstream::${host}::canary::false`,
        `upstream::${host}::priority::0`,
        `upstream::${host}::success_rate::-1`,
        `upstream::${host}::local_origin_success_rate::-1`,
        "",
      ].join("\n"),
    );
  });

  it("/clusters?format=json answers Envoy's admin Clusters JSON", async () => {
    const response = await fetch(`${proxy.adminUrl}/clusters?format=json`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    const body = (await response.json()) as { cluster_statuses: Array<Record<string, any>> };
    const echo = new URL(proxy.echoUrl!);
    const [status] = body.cluster_statuses;
    const host = status.host_statuses[0];
    // cx_active depends on whether the pooled connection is still open.
    host.stats = host.stats.filter((stat: { name: string }) => stat.name !== "cx_active");
    assert.deepEqual(status, {
      name: "upstream",
      host_statuses: [
        {
          address: { socket_address: { address: "127.0.0.1", port_value: Number(echo.port) } },
          stats: [
            { name: "cx_connect_fail" },
            { name: "cx_total", value: "1" },
            { name: "rq_error" },
            { name: "rq_success", value: "1" },
            { name: "rq_timeout" },
            { name: "rq_total", value: "1" },
            { name: "rq_active", type: "GAUGE" },
          ],
          health_status: { eds_health_status: "HEALTHY" },
          weight: 1,
          locality: {},
        },
      ],
      circuit_breakers: {
        thresholds: [
          { max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
          { priority: "HIGH", max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
        ],
      },
      observability_name: "upstream",
    });
  });

  it("/config_dump shows the effective configuration in Envoy's shape", async () => {
    const response = await fetch(`${proxy.adminUrl}/config_dump`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    const dump = (await response.json()) as { configs: Array<Record<string, any>> };
    assert.deepEqual(
      dump.configs.map((config) => config["@type"]),
      [
        "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
        "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
        "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
        "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
      ],
    );
    const [bootstrap, clusters, listeners, routes] = dump.configs;
    const echo = new URL(proxy.echoUrl!);
    assert.deepEqual(clusters.static_clusters[0].cluster, {
      "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      name: "upstream",
      type: "STATIC",
      connect_timeout: "5s",
      load_assignment: {
        cluster_name: "upstream",
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: Number(echo.port) } } } }] }],
      },
    });
    assert.match(clusters.static_clusters[0].last_updated, /^\d{4}-\d{2}-\d{2}T/);
    const listener = listeners.static_listeners[0].listener;
    assert.deepEqual(listener.address, { socket_address: { address: "127.0.0.1", port_value: 0 } });
    const hcm = listener.filter_chains[0].filters[0];
    assert.equal(hcm.name, "envoy.filters.network.http_connection_manager");
    assert.deepEqual(hcm.typed_config.http_filters, [
      { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
    ]);
    assert.deepEqual(routes.static_route_configs[0].route_config.virtual_hosts[0].routes, [
      { match: { prefix: "/" }, route: { cluster: "upstream", timeout: "15s" } },
    ]);
    assert.deepEqual(bootstrap.bootstrap.static_resources.listeners, [listener]);
    assert.deepEqual(bootstrap.bootstrap.admin, { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } });
  });
});

describe("admin endpoint on the wire", () => {
  it("answers with Envoy's admin head: content-type, cache-control, nosniff, date, server, chunked", async () => {
    const { proxy } = await startTestProxy();
    try {
      const { hostname, port } = new URL(proxy.adminUrl!);
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.write("GET /ready HTTP/1.1\r\nhost: admin\r\n\r\n"));
        let received = "";
        const giveUp = setTimeout(() => reject(new Error(`no whole answer: ${JSON.stringify(received)}`)), 30_000);
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => {
          received += chunk;
          if (received.endsWith("\r\n0\r\n\r\n")) {
            clearTimeout(giveUp);
            socket.destroy();
            resolve(received);
          }
        });
        socket.on("error", reject);
      });
      const head = text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n");
      assert.equal(head[0], "HTTP/1.1 200 OK");
      assert.deepEqual(
        head.slice(1).map((line) => line.slice(0, line.indexOf(":"))),
        ["content-type", "cache-control", "x-content-type-options", "date", "server", "transfer-encoding"],
      );
      assert.deepEqual([head[1], head[2], head[3], head[5], head[6]], [
        "content-type: text/plain; charset=UTF-8",
        "cache-control: no-cache, max-age=0",
        "x-content-type-options: nosniff",
        "server: envoy",
        "transfer-encoding: chunked",
      ]);
      assert.ok(text.endsWith("\r\n\r\n5\r\nLIVE\n\r\n0\r\n\r\n"), JSON.stringify(text));
    } finally {
      await proxy.close();
    }
  });
});
