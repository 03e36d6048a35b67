// Issue #15: "listeners as a list". A bootstrap's every HTTP listener is served, each with its own
// address, HTTP connection manager (stat_prefix, route_config, http_filters, access_log) and
// plugin instances, as Envoy serves each listener of static_resources.listeners
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/listeners,
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/listeners/listeners); shared data
// stays process-wide by vm_id; two listeners on one address are refused, as Envoy refuses the
// second ("has duplicate address", envoy source/common/listener_manager/listener_manager_impl.cc).
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { after, before, describe, it } from "node:test";
import { makeTestCertificates, type TestCertificates } from "../helpers/tls-certificates";
import { refusedBootstrap, runBootstrap } from "./bootstrap-run";
import { http1Request, startUpstream } from "./proxy-test-helpers";
import { echo, startTcpServer, tcpClient, type TestServer } from "./tcp-test-helpers";

const HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

/** An `envoy.filters.http.wasm` list item (indented for http_filters). */
function wasmFilter(name: string, example: string, options: { configuration?: string; vmId?: string } = {}): string {
  return `
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: ${name}${options.configuration === undefined ? "" : `
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '${options.configuration}'`}
                vm_config:
                  ${options.vmId === undefined ? "" : `vm_id: ${options.vmId}
                  `}runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: ./examples/${example}/build/${example}.wasm } }`;
}

/**
 * One HTTP listener (a static_resources.listeners item); `extra` goes into the HCM, `chain` into
 * the filter chain (a transport_socket), `listener` into the listener.
 */
function httpListener(name: string, port: number, statPrefix: string, routes: string, filters: string, extra = "", more: { chain?: string; listener?: string } = {}): string {
  return `
  - name: ${name}${more.listener ?? ""}
    address:
      socket_address: { address: 127.0.0.1, port_value: ${port} }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM_TYPE}
          stat_prefix: ${statPrefix}${extra}
          route_config:
            virtual_hosts:
            - name: ${name}_hosts
              domains: ["*"]
              routes:${routes}
          http_filters:${filters}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router${more.chain ?? ""}`;
}

const DIRECT_FIRST = `
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "from first\\n" } }`;
const TO_BACKEND = `
              - match: { prefix: "/only-second" }
                route: { cluster: backend }`;
const ACCESS_LOG = `
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: { text_format_source: { inline_string: "second %REQ(:PATH)% %RESPONSE_CODE%\\n" } }`;

function bootstrap(listeners: string, backendPort: number): string {
  return `
static_resources:
  listeners:${listeners}
  clusters:
  - name: backend
    connect_timeout: 2s
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${backendPort} } } }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;
}

/** Two listeners: different routes, different add_header configurations, the second with an access log. */
function twoListeners(backendPort: number): string {
  return bootstrap(
    httpListener("first", 0, "first", DIRECT_FIRST, wasmFilter("add_first", "add_header", { configuration: '{"name": "x-listener", "value": "first"}' })) +
      httpListener("second", 0, "second", TO_BACKEND, wasmFilter("add_second", "add_header", { configuration: '{"name": "x-listener", "value": "second"}' }), ACCESS_LOG),
    backendPort,
  );
}

describe("bootstrap: every HTTP listener is served", () => {
  let backend: Awaited<ReturnType<typeof startUpstream>>;
  before(async () => {
    backend = await startUpstream((req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`backend saw ${req.url}\n`);
    });
  });
  after(() => backend.close());

  for (const concurrency of ["1", "2"]) {
    it(`two HTTP listeners on two ports, each with its own routes and filters (--concurrency ${concurrency})`, async () => {
      const port = Number(new URL(backend.url).port);
      const run = await runBootstrap(twoListeners(port), ["--concurrency", concurrency]);
      try {
        assert.equal(run.httpUrls.length, 2);
        assert.equal(run.httpUrls[0], run.url);
        assert.notEqual(run.httpUrls[0], run.httpUrls[1]);
        assert.match(run.stdout(), new RegExp(`^dev proxy listening on ${run.url} \\(admin ${run.adminUrl}\\)\\nHTTP listener second on ${run.httpUrls[1]}\\n`));
        assert.doesNotMatch(run.stderr(), /only the first HTTP listener/);

        for (let i = 0; i < 2; i++) {
          const first = await http1Request(`${run.httpUrls[0]}/only-second`);
          assert.equal(first.status, 200);
          assert.equal(first.body, "from first\n");
          assert.equal(first.headers["x-listener"], "first");
          assert.equal(first.headers.location, "envoy-wasm");

          const second = await http1Request(`${run.httpUrls[1]}/only-second`);
          assert.equal(second.status, 200);
          assert.equal(second.body, "backend saw /only-second\n");
          assert.equal(second.headers["x-listener"], "second");
          assert.equal(second.headers.location, "envoy-wasm");
        }
        // The second listener's route table has no route for this path: Envoy's 404 (NR).
        const unrouted = await http1Request(`${run.httpUrls[1]}/elsewhere`);
        assert.equal(unrouted.status, 404);
        assert.equal(unrouted.headers["x-listener"], "second");

        // Only the second HCM has an access log.
        const accessLines = run.stdout().split("\n").filter((line) => /^second /.test(line));
        assert.deepEqual(accessLines, ["second /only-second 200", "second /only-second 200", "second /elsewhere 404"]);

        // Each HCM counts under its own stat_prefix.
        const stats = (await http1Request(`${run.adminUrl}/stats`)).body;
        assert.match(stats, /^http\.first\.downstream_rq_total: 2$/m);
        assert.match(stats, /^http\.second\.downstream_rq_total: 3$/m);
        assert.match(stats, /^http\.second\.downstream_rq_4xx: 1$/m);
        assert.doesNotMatch(stats, /^http\.ingress_http\./m);

        const dump = JSON.parse((await http1Request(`${run.adminUrl}/config_dump`)).body) as { configs: Array<Record<string, unknown>> };
        const listeners = (dump.configs[2].static_listeners as Array<{ listener: Record<string, unknown> }>).map((entry) => entry.listener);
        assert.deepEqual(listeners.map((listener) => listener.name), ["first", "second"]);
        const hcmOf = (listener: Record<string, unknown>) =>
          ((listener.filter_chains as Array<{ filters: Array<{ typed_config: Record<string, unknown> }> }>)[0].filters[0].typed_config);
        assert.deepEqual(listeners.map((listener) => hcmOf(listener).stat_prefix), ["first", "second"]);
        assert.deepEqual(listeners.map((listener) => (listener.address as { socket_address: { port_value: number } }).socket_address.port_value), [0, 0]);
        const routeConfigs = dump.configs[3].static_route_configs as unknown[];
        assert.equal(routeConfigs.length, 2);
      } finally {
        await run.stop();
      }
    });
  }

  for (const concurrency of ["1", "2"]) {
    it(`filters of two listeners share shared data by vm_id, not across vm_ids (--concurrency ${concurrency})`, async () => {
      const port = Number(new URL(backend.url).port);
      const shared = bootstrap(
        httpListener("first", 0, "first", DIRECT_FIRST, wasmFilter("count_a", "shared_data", { vmId: "counter" })) +
          httpListener("second", 0, "second", DIRECT_FIRST, wasmFilter("count_b", "shared_data", { vmId: "counter" })) +
          httpListener("third", 0, "third", DIRECT_FIRST, wasmFilter("count_c", "shared_data", { vmId: "other" })),
        port,
      );
      const run = await runBootstrap(shared, ["--concurrency", concurrency]);
      try {
        const counts = (): string[] => [...run.stderr().matchAll(/shared value: (\d+)/g)].map((match) => match[1]);
        assert.equal((await http1Request(`${run.httpUrls[0]}/`)).status, 200);
        assert.equal((await http1Request(`${run.httpUrls[1]}/`)).status, 200);
        assert.equal((await http1Request(`${run.httpUrls[0]}/`)).status, 200);
        assert.equal((await http1Request(`${run.httpUrls[2]}/`)).status, 200);
        // Filter log lines reach stderr when the callback ran (worker threads relay them).
        const deadline = Date.now() + 30_000;
        while (counts().length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(counts(), ["1", "2", "3", "1"]);
      } finally {
        await run.stop();
      }
    });
  }

  it("refuses two listeners on one address, naming the later one's address", async () => {
    const port = Number(new URL(backend.url).port);
    const refused = await refusedBootstrap(
      bootstrap(httpListener("first", 18_123, "first", DIRECT_FIRST, "") + httpListener("second", 18_123, "second", TO_BACKEND, ""), port),
    );
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /static_resources\.listeners\[1\]\.address: listener 'second' has duplicate address '127\.0\.0\.1:18123' as existing listener 'first' \(static_resources\.listeners\[0\]\); Envoy refuses the bootstrap/,
    );
  });

  it("refuses a TCP listener on an HTTP listener's address", async () => {
    const port = Number(new URL(backend.url).port);
    const tcp = `
  - name: raw
    address:
      socket_address: { address: 127.0.0.1, port_value: 18124 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: raw_tcp
          cluster: backend`;
    const refused = await refusedBootstrap(bootstrap(httpListener("web", 18_124, "web", DIRECT_FIRST, "") + tcp, port));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /static_resources\.listeners\[1\]\.address: listener 'raw' has duplicate address '127\.0\.0\.1:18124' as existing listener 'web'/);
  });

  describe("a TLS listener beside a plaintext one", () => {
    let certs: TestCertificates;
    before(() => {
      certs = makeTestCertificates();
    });

    it("each listener has its own transport socket and buffer limit", async () => {
      const port = Number(new URL(backend.url).port);
      const tls = `
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificates:
            - certificate_chain: { filename: ${certs.certPath} }
              private_key: { filename: ${certs.keyPath} }`;
      const yaml = bootstrap(
        httpListener("plain", 0, "plain", DIRECT_FIRST, "") +
          httpListener("secure", 0, "secure", TO_BACKEND, "", "", { chain: tls, listener: "\n    per_connection_buffer_limit_bytes: 2048" }),
        port,
      );
      const run = await runBootstrap(yaml);
      try {
        assert.match(run.httpUrls[0], /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.match(run.httpUrls[1], /^https:\/\/127\.0\.0\.1:\d+$/);
        assert.match(run.stdout(), new RegExp(`\nHTTP listener secure on ${run.httpUrls[1]}\n`));
        const plain = await http1Request(`${run.httpUrls[0]}/`);
        assert.equal(plain.status, 200);
        assert.equal(plain.body, "from first\n");
        const secure = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpsRequest(
            { host: "127.0.0.1", port: Number(new URL(run.httpUrls[1]).port), path: "/only-second", ca: certs.ca, servername: "localhost", agent: false },
            (res) => {
              let text = "";
              res.on("data", (chunk: Buffer) => (text += chunk));
              res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
            },
          );
          req.on("error", reject);
          req.end();
        });
        assert.deepEqual(secure, { status: 200, body: "backend saw /only-second\n" });

        const dump = JSON.parse((await http1Request(`${run.adminUrl}/config_dump`)).body) as { configs: Array<Record<string, unknown>> };
        const listeners = (dump.configs[2].static_listeners as Array<{ listener: Record<string, unknown> }>).map((entry) => entry.listener);
        assert.deepEqual(listeners.map((listener) => listener.per_connection_buffer_limit_bytes), [undefined, 2048]);
        const chains = listeners.map((listener) => (listener.filter_chains as Array<Record<string, unknown>>)[0]);
        assert.equal(chains[0].transport_socket, undefined);
        assert.equal((chains[1].transport_socket as { name: string }).name, "envoy.transport_sockets.tls");
      } finally {
        await run.stop();
      }
    });
  });

  describe("one HTTP and one TCP listener", () => {
    let echoServer: TestServer;
    before(async () => {
      echoServer = await startTcpServer(echo);
    });
    after(() => echoServer.close());

    it("serves HTTP with its filter and proxies TCP to its cluster", async () => {
      const yaml = `
static_resources:
  listeners:${httpListener("web", 0, "web", DIRECT_FIRST, wasmFilter("add_web", "add_header", { configuration: '{"name": "x-listener", "value": "web"}' }))}
  - name: raw
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: raw_tcp
          cluster: echo
  clusters:
  - name: echo
    connect_timeout: 2s
    type: STATIC
    load_assignment:
      cluster_name: echo
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echoServer.port} } } }
`;
      const run = await runBootstrap(yaml);
      try {
        assert.deepEqual(run.httpUrls, [run.url]);
        assert.equal(run.tcpPorts.length, 1);
        assert.match(run.stdout(), new RegExp(`^dev proxy listening on ${run.url}\\nTCP listener raw on tcp://127\\.0\\.0\\.1:${run.tcpPorts[0]}\\n`));
        const response = await http1Request(`${run.url}/`);
        assert.equal(response.status, 200);
        assert.equal(response.body, "from first\n");
        assert.equal(response.headers["x-listener"], "web");
        const raw = await tcpClient(run.tcpPorts[0], { send: "ping", endAfterSend: true });
        assert.equal(raw.data, "ping");
      } finally {
        await run.stop();
      }
    });
  });
});
