// Issue #15: clusters of type STATIC, STRICT_DNS and LOGICAL_DNS with socket addresses, for routed
// traffic and callouts. Bootstraps follow Envoy's docs:
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery
// (cluster types) and https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto.
// A name that does not resolve leaves a DNS cluster without hosts: Envoy answers 503
// `no healthy upstream` (source/common/router/router.cc, onNoHealthyHost).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { refusedBootstrap, runBootstrap } from "./bootstrap-run";
import { http1Request, startUpstream } from "./proxy-test-helpers";

function bootstrap(type: string, address: string, port: number, extra = ""): string {
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
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: service }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: service
    type: ${type}
    connect_timeout: 1s
    dns_lookup_family: V4_ONLY
    lb_policy: ROUND_ROBIN
${extra}
    load_assignment:
      cluster_name: service
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: ${address}, port_value: ${port} }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;
}

const HTTP2 = `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`;

describe("bootstrap: cluster types", () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let port: number;
  before(async () => {
    upstream = await startUpstream((req, res) => res.end(`got ${req.url} over ${req.httpVersion}`));
    port = Number(new URL(upstream.url).port);
  });
  after(() => upstream.close());

  for (const [type, address] of [["STATIC", "127.0.0.1"], ["STRICT_DNS", "localhost"], ["LOGICAL_DNS", "localhost"]]) {
    it(`${type} with ${address} routes traffic`, async () => {
      const run = await runBootstrap(bootstrap(type, address, port));
      try {
        const response = await http1Request(`${run.url}/t?x=1`);
        assert.equal(response.status, 200);
        assert.equal(response.body, "got /t?x=1 over 1.1");
        assert.doesNotMatch(run.stderr(), /unsupported/, run.stderr());
      } finally {
        await run.stop();
      }
    });
  }

  /** A request to a DNS cluster named `no-such-host.invalid`, speaking HTTP/1.1 or (with `extra`) HTTP/2. */
  const unresolved = async (extra: string) => {
    const run = await runBootstrap(bootstrap("STRICT_DNS", "no-such-host.invalid", port, extra));
    try {
      const response = await http1Request(`${run.url}/t`);
      assert.equal(response.status, 503);
      assert.equal(response.body, "no healthy upstream");
      assert.equal(response.headers["content-type"], "text/plain");
      const stats = await http1Request(`${run.adminUrl}/stats?filter=none_healthy`);
      assert.match(stats.body, /^cluster\.service\.upstream_cx_none_healthy: 1$/m);
    } finally {
      await run.stop();
    }
  };

  it("a DNS name that does not resolve answers 503 no healthy upstream (HTTP/1.1)", () => unresolved(""));

  it("a DNS name that does not resolve answers 503 no healthy upstream (HTTP/2)", () => unresolved(HTTP2));

  it("a STATIC cluster with a host name is refused, as Envoy refuses it", async () => {
    const { stderr } = await refusedBootstrap(bootstrap("STATIC", "localhost", port));
    assert.equal(
      stderr,
      'error: static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: "localhost" is not an IP address (a STATIC cluster needs one; use STRICT_DNS or LOGICAL_DNS for a name)\n',
    );
  });

  it("EDS and ORIGINAL_DST are refused with the field's path", async () => {
    for (const type of ["EDS", "ORIGINAL_DST"]) {
      const { stderr } = await refusedBootstrap(bootstrap(type, "127.0.0.1", port));
      assert.equal(stderr, `error: static_resources.clusters[0].type: ${type} is not supported (STATIC, STRICT_DNS or LOGICAL_DNS)\n`);
    }
  });

  it("a second endpoint and another lb_policy are named in warnings", async () => {
    const text = bootstrap("STATIC", "127.0.0.1", port)
      .replace("lb_policy: ROUND_ROBIN", "lb_policy: LEAST_REQUEST")
      .replace(/(        - endpoint:\n[\s\S]*?port_value: \d+ \}\n)/, "$1$1");
    const run = await runBootstrap(text);
    try {
      assert.equal((await http1Request(`${run.url}/`)).status, 200);
      assert.match(run.stderr(), /unsupported: static_resources\.clusters\[0\]: lb_policy LEAST_REQUEST: the dev proxy sends every request to the first endpoint/);
      assert.match(run.stderr(), /unsupported: static_resources\.clusters\[0\]\.load_assignment: only the first endpoint is used \(no load balancing\)/);
    } finally {
      await run.stop();
    }
  });
});
