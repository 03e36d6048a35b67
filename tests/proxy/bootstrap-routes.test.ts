// Issue #15: route_config as Envoy matches it, through `run -c` with real requests. The bootstrap
// follows Envoy's docs: https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto
// (VirtualHost.domains search order, RouteMatch, HeaderMatcher, RouteAction, DirectResponseAction)
// and https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_routing.
// Envoy's matching: source/common/router/config_impl.cc (RouteMatcher::findVirtualHost,
// RouteEntryImplBase::matchRoute, finalizePathHeader).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { refusedBootstrap, runBootstrap, type BootstrapRun } from "./bootstrap-run";
import { http1Request, startUpstream } from "./proxy-test-helpers";

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

/** An upstream that says who it is and what it got. */
const namedUpstream = (name: string): Promise<Upstream> =>
  startUpstream((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`${name} ${req.url} host=${req.headers.host} original=${req.headers["x-envoy-original-path"] ?? "-"}`);
  });

function bootstrap(apiPort: number, webPort: number, extraRoute = ""): string {
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
            - name: api
              domains: ["api.example.com", "API.example.com:8080"]
              routes:
              - match: { path: "/health" }
                direct_response:
                  status: 200
                  body: { inline_string: "healthy" }
              - match:
                  prefix: "/v1/"
                  headers:
                  - name: x-version
                    string_match: { exact: "2" }
                route: { cluster: web, prefix_rewrite: "/v2/" }
              - match: { prefix: "/v1/" }
                route: { cluster: api, timeout: 3s }
              - match:
                  safe_regex:
                    google_re2: {}
                    regex: "/items/[0-9]+"
                route: { cluster: api, host_rewrite_literal: items.internal }
${extraRoute}
            - name: any_example
              domains: ["*.example.com"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: web }
            - name: deep_api
              domains: ["*.api.example.com"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 403, body: { inline_string: "deep" } }
            - name: staging
              domains: ["staging.*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200 }
            - name: fallback
              domains: ["*"]
              routes:
              - match:
                  prefix: "/"
                  headers:
                  - name: x-debug
                    present_match: true
                route: { cluster: api }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: api
    type: STATIC
    load_assignment:
      cluster_name: api
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${apiPort} }
  - name: web
    type: STATIC
    load_assignment:
      cluster_name: web
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${webPort} }
`;
}

describe("bootstrap: route_config (virtual hosts, matchers, actions)", () => {
  let api: Upstream;
  let web: Upstream;
  let run: BootstrapRun;
  before(async () => {
    api = await namedUpstream("api");
    web = await namedUpstream("web");
    run = await runBootstrap(bootstrap(Number(new URL(api.url).port), Number(new URL(web.url).port)));
  });
  after(async () => {
    await run.stop();
    await api.close();
    await web.close();
  });

  const get = (host: string, path: string, headers: Record<string, string> = {}) => http1Request(`${run.url}${path}`, { headers: { host, ...headers } });

  it("an exact domain, lower-cased on both sides, with its port when the request has one", async () => {
    const response = await get("API.Example.com", "/v1/users?page=2");
    assert.equal(response.status, 200);
    assert.equal(response.body, "api /v1/users?page=2 host=API.Example.com original=-");
    assert.equal((await get("api.example.com:8080", "/v1/x")).body, "api /v1/x host=api.example.com:8080 original=-");
  });

  it("a host with a port no domain lists falls through to `*`", async () => {
    const response = await get("api.example.com:9999", "/v1/x");
    assert.equal(response.status, 404);
    assert.equal(response.body, "");
  });

  it("the longest *suffix wins, and a wildcard never matches the empty string", async () => {
    assert.equal((await get("www.example.com", "/a")).body, "web /a host=www.example.com original=-");
    const deep = await get("v2.api.example.com", "/a");
    assert.equal(deep.status, 403);
    assert.equal(deep.body, "deep");
    // `*.example.com` needs something before `.example.com`.
    assert.equal((await get(".example.com", "/a")).status, 404);
  });

  it("prefix* hosts come after suffix ones", async () => {
    const response = await get("staging.internal", "/anything");
    assert.equal(response.status, 200);
    assert.equal(response.body, "");
    assert.equal(response.headers["content-length"], "0");
  });

  it("direct_response answers from the route with a text/plain body", async () => {
    const response = await get("api.example.com", "/health");
    assert.equal(response.status, 200);
    assert.equal(response.body, "healthy");
    assert.equal(response.headers["content-type"], "text/plain");
    assert.equal(response.headers["content-length"], "7");
    // `path` is exact: a longer path or a query keeps matching only before the `?`.
    assert.equal((await get("api.example.com", "/health?verbose=1")).body, "healthy");
    assert.equal((await get("api.example.com", "/healthz")).status, 404);
  });

  it("a header matcher picks the route, and prefix_rewrite keeps the original path in x-envoy-original-path", async () => {
    const response = await get("api.example.com", "/v1/users?page=2", { "x-version": "2" });
    assert.equal(response.body, "web /v2/users?page=2 host=api.example.com original=/v1/users?page=2");
    // Another value: the next route.
    assert.equal((await get("api.example.com", "/v1/users", { "x-version": "3" })).body, "api /v1/users host=api.example.com original=-");
  });

  it("safe_regex must match the whole path without the query; host_rewrite_literal sets the authority", async () => {
    assert.equal((await get("api.example.com", "/items/42?x=1")).body, "api /items/42?x=1 host=items.internal original=-");
    assert.equal((await get("api.example.com", "/items/42/parts")).status, 404);
    assert.equal((await get("api.example.com", "/items/abc")).status, 404);
  });

  it("present_match: only requests with the header get the route; the rest get 404", async () => {
    assert.equal((await get("other.host", "/x", { "x-debug": "" })).body, "api /x host=other.host original=-");
    const none = await get("other.host", "/x");
    assert.equal(none.status, 404);
    assert.equal(none.body, "");
  });

  it("the route timeout reaches the upstream as x-envoy-expected-rq-timeout-ms", async () => {
    let seen: string | undefined;
    const probe = await startUpstream((req, res) => {
      seen = req.headers["x-envoy-expected-rq-timeout-ms"] as string;
      res.end("ok");
    });
    const probeRun = await runBootstrap(bootstrap(Number(new URL(probe.url).port), Number(new URL(web.url).port)));
    try {
      assert.equal((await http1Request(`${probeRun.url}/v1/t`, { headers: { host: "api.example.com" } })).body, "ok");
      assert.equal(seen, "3000");
    } finally {
      await probeRun.stop();
      await probe.close();
    }
  });
});

describe("bootstrap: route_config fields the dev proxy cannot honour are refused with their path", () => {
  const HOST = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0]";
  const refused = async (extraRoute: string) => (await refusedBootstrap(bootstrap(1, 2, extraRoute))).stderr;

  it("a regex JavaScript reads differently", async () => {
    const stderr = await refused(`              - match: { safe_regex: { google_re2: {}, regex: "(?s)/a.b" } }
                route: { cluster: api }`);
    assert.equal(stderr, `error: ${HOST}.routes[4].match.safe_regex.regex: the inline flags (?s) cannot be mapped to a JavaScript regex\n`);
  });

  it("a redirect route", async () => {
    const stderr = await refused(`              - match: { prefix: "/old" }
                redirect: { path_redirect: "/new" }`);
    assert.equal(stderr, `error: ${HOST}.routes[4].redirect: redirect routes are not supported by the dev proxy\n`);
  });

  it("a header value with a format command, and a pseudo-header to add", async () => {
    const format = await refused(`              - match: { prefix: "/h" }
                route: { cluster: api }
                request_headers_to_add: [{ header: { key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS%" } }]`);
    assert.equal(format, `error: ${HOST}.routes[4].request_headers_to_add[0].header.value: format commands (%…%) are not supported by the dev proxy\n`);
    const pseudo = await refused(`              - match: { prefix: "/h" }
                route: { cluster: api }
                request_headers_to_add: [{ header: { key: ":path", value: "/x" } }]`);
    assert.equal(pseudo, `error: ${HOST}.routes[4].request_headers_to_add[0].header.key: ":-prefixed" or host headers may not be modified\n`);
  });

  it("a query_parameters matcher", async () => {
    const stderr = await refused(`              - match: { prefix: "/q", query_parameters: [{ name: a, present_match: true }] }
                route: { cluster: api }`);
    assert.equal(stderr, `error: ${HOST}.routes[4].match.query_parameters: this route matcher is not supported by the dev proxy (a route would match other requests than in Envoy)\n`);
  });

  it("weighted clusters", async () => {
    const stderr = await refused(`              - match: { prefix: "/w" }
                route: { weighted_clusters: { clusters: [{ name: api, weight: 1 }] } }`);
    assert.equal(stderr, `error: ${HOST}.routes[4].route.weighted_clusters: weighted_clusters is not supported by the dev proxy; name one cluster\n`);
  });

  it("a domain listed twice", async () => {
    const stderr = await refused(`            - name: dup
              domains: ["www.example.com", "*.example.com"]
              routes: []`);
    assert.equal(stderr, 'error: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts: only unique values for domains are permitted; "*.example.com" appears twice\n');
  });
});

describe("bootstrap: request and response headers to add and remove", () => {
  it("apply at route, virtual host and route table level, route first, removals before additions", async () => {
    let seen: Record<string, string | string[] | undefined> = {};
    const upstream = await startUpstream((req, res) => {
      seen = req.headers;
      res.writeHead(200, { "x-upstream-secret": "s", "x-kept": "k" });
      res.end("ok");
    });
    const yaml = `
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
            request_headers_to_add:
            - header: { key: x-level, value: table }
              append_action: OVERWRITE_IF_EXISTS_OR_ADD
            response_headers_to_add:
            - header: { key: x-served-by, value: dev-proxy }
            virtual_hosts:
            - name: all
              domains: ["*"]
              request_headers_to_add:
              - header: { key: x-level, value: vhost }
              - header: { key: x-vhost-only, value: "100%%" }
              routes:
              - match: { prefix: "/direct" }
                direct_response: { status: 200, body: { inline_string: direct } }
                response_headers_to_add:
                - header: { key: x-direct, value: "yes" }
              - match: { prefix: "/" }
                route: { cluster: backend }
                request_headers_to_remove: [x-drop]
                request_headers_to_add:
                - header: { key: x-level, value: route }
                - header: { key: x-client, value: added }
                  append_action: ADD_IF_ABSENT
                - header: { key: x-empty, value: "" }
                response_headers_to_remove: [x-upstream-secret]
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${new URL(upstream.url).port} }
`;
    const run = await runBootstrap(yaml);
    try {
      const response = await http1Request(`${run.url}/x`, { headers: { "x-drop": "1", "x-client": "mine", "x-level": "client" } });
      assert.equal(response.status, 200);
      assert.equal(seen["x-drop"], undefined);
      // Route level first, then the virtual host's, then the table's OVERWRITE: the table wins.
      assert.equal(seen["x-level"], "table");
      assert.equal(seen["x-client"], "mine");
      assert.equal(seen["x-vhost-only"], "100%");
      // An empty value is not added (keep_empty_value false).
      assert.equal(seen["x-empty"], undefined);
      assert.equal(response.headers["x-upstream-secret"], undefined);
      assert.equal(response.headers["x-kept"], "k");
      assert.equal(response.headers["x-served-by"], "dev-proxy");

      const direct = await http1Request(`${run.url}/direct`);
      assert.equal(direct.body, "direct");
      assert.equal(direct.headers["x-direct"], "yes");
      assert.equal(direct.headers["x-served-by"], "dev-proxy");
    } finally {
      await run.stop();
      await upstream.close();
    }
  });
});

describe("bootstrap: strip_any_host_port / strip_matching_host_port", () => {
  it("the port leaves :authority before the filters and the route see it", async () => {
    const api = await namedUpstream("api");
    const port = Number(new URL(api.url).port);
    const strip = (field: string) => bootstrap(port, port).replace("stat_prefix: ingress_http", `stat_prefix: ingress_http\n          ${field}: true`);
    const any = await runBootstrap(strip("strip_any_host_port"));
    try {
      assert.equal((await http1Request(`${any.url}/v1/x`, { headers: { host: "api.example.com:9999" } })).body, "api /v1/x host=api.example.com original=-");
      assert.doesNotMatch(any.stderr(), /unsupported/, any.stderr());
    } finally {
      await any.stop();
    }
    const matching = await runBootstrap(strip("strip_matching_host_port"));
    try {
      const listenerPort = new URL(matching.url).port;
      assert.equal((await http1Request(`${matching.url}/v1/x`, { headers: { host: `api.example.com:${listenerPort}` } })).body, "api /v1/x host=api.example.com original=-");
      // Another port stays, and then no domain matches but `*` (which needs x-debug).
      assert.equal((await http1Request(`${matching.url}/v1/x`, { headers: { host: "api.example.com:9999" } })).status, 404);
    } finally {
      await matching.stop();
      await api.close();
    }
  });
});

describe("bootstrap: the router's own config", () => {
  it("suppress_envoy_headers: no x-envoy-expected-rq-timeout-ms or x-envoy-original-path upstream, no x-envoy-upstream-service-time downstream", async () => {
    let seen: Record<string, string | string[] | undefined> = {};
    const probe = await startUpstream((req, res) => {
      seen = req.headers;
      res.end(req.url);
    });
    const port = Number(new URL(probe.url).port);
    const yaml = bootstrap(port, port).replace(
      `"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`,
      `"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n              suppress_envoy_headers: true`,
    );
    const run = await runBootstrap(yaml);
    try {
      const response = await http1Request(`${run.url}/v1/a`, { headers: { host: "api.example.com", "x-version": "2" } });
      assert.equal(response.body, "/v2/a");
      assert.equal(seen["x-envoy-original-path"], undefined);
      assert.equal(seen["x-envoy-expected-rq-timeout-ms"], undefined);
      // The router adds its service time only without suppress_envoy_headers (router.cc `onUpstreamHeaders`).
      assert.equal(response.headers["x-envoy-upstream-service-time"], undefined);
      assert.doesNotMatch(run.stderr(), /unsupported/, run.stderr());
    } finally {
      await run.stop();
      await probe.close();
    }
  });
});
