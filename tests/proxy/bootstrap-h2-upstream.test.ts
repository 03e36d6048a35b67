// Issue #15: routed traffic to a cluster that speaks HTTP/2, so gRPC works through the proxy.
// Bootstraps follow Envoy's docs: the gRPC bridge / HTTP/2 upstream examples in
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/upstreams/http/v3/http_protocol_options.proto
// (typed_extension_protocol_options with explicit_http_config.http2_protocol_options) and the
// older cluster-level `http2_protocol_options` (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto).
// Envoy picks the upstream codec from these options (source/extensions/upstreams/http/config.cc).
import assert from "node:assert/strict";
import { connect, constants, createServer, type Http2Server, type IncomingHttpHeaders } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { frame } from "../../src/proxy/grpc-callout-client";
import { refusedBootstrap, runBootstrap, type BootstrapRun } from "./bootstrap-run";
import { http1Request } from "./proxy-test-helpers";

/** What the gRPC-style upstream saw of each request. */
interface Seen {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An h2c upstream answering `/echo.Echo/Say` as a unary gRPC method (reply `hi <message>`), anything else with 200 `h2 saw <path>`. */
async function startGrpcUpstream(): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Http2Server = createServer();
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ headers, body });
      if (headers[":path"] !== "/echo.Echo/Say") {
        stream.respond({ ":status": 200, "content-type": "text/plain" });
        stream.end(`h2 saw ${String(headers[":path"])} ${body.toString()}`);
        return;
      }
      const message = body.subarray(5).toString();
      if (message === "fail") {
        // Trailers-only: the status travels in the response head, which ends the stream.
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "5", "grpc-message": "not found" }, { endStream: true });
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "ok" }));
      stream.end(frame(Buffer.from(`hi ${message}`)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A bootstrap routing `/` to cluster `grpc_backend`, whose protocol options are `clusterOptions`. */
function bootstrap(port: number, clusterOptions: string): string {
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
          codec_type: AUTO
          route_config:
            name: local_route
            virtual_hosts:
            - name: grpc
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: grpc_backend }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: grpc_backend
    type: STATIC
    connect_timeout: 1s
${clusterOptions}
    load_assignment:
      cluster_name: grpc_backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${port} }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;
}

const EXPLICIT_HTTP2 = `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options: {}`;
const LEGACY_HTTP2 = `    http2_protocol_options: {}`;

/** One unary gRPC call over h2c to `url`; resolves to the response head, body and trailers. */
function grpcCall(url: string, message: string): Promise<{ headers: IncomingHttpHeaders; body: Buffer; trailers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = connect(url);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": "/echo.Echo/Say", "content-type": "application/grpc", te: "trailers" });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (head) => (headers = head));
    stream.on("trailers", (tail) => (trailers = tail));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve({ headers, body: Buffer.concat(chunks), trailers });
    });
    stream.end(frame(Buffer.from(message)));
  });
}

describe("bootstrap: routed traffic to an HTTP/2 cluster", () => {
  let upstream: Awaited<ReturnType<typeof startGrpcUpstream>>;
  before(async () => {
    upstream = await startGrpcUpstream();
  });
  after(() => upstream.close());

  for (const [form, options] of [
    ["typed_extension_protocol_options explicit_http_config.http2_protocol_options", EXPLICIT_HTTP2],
    ["the cluster-level http2_protocol_options", LEGACY_HTTP2],
  ] as const) {
    describe(`with ${form}`, () => {
      let run: BootstrapRun;
      before(async () => {
        run = await runBootstrap(bootstrap(upstream.port, options));
      });
      after(() => run.stop());

      it("a unary gRPC call gets its message, grpc-status 0 and the trailers", async () => {
        upstream.seen.length = 0;
        const { headers, body, trailers } = await grpcCall(run.url, "proxy");
        assert.equal(headers[constants.HTTP2_HEADER_STATUS], 200);
        assert.equal(headers["content-type"], "application/grpc");
        assert.equal(headers["server"], "envoy");
        assert.deepEqual(body, frame(Buffer.from("hi proxy")));
        assert.equal(trailers["grpc-status"], "0");
        assert.equal(trailers["grpc-message"], "ok");
        assert.equal(upstream.seen.length, 1);
        // Envoy forwards `te: trailers` (sanitizeTEHeader) and the route timeout header.
        assert.equal(upstream.seen[0].headers["te"], "trailers");
        assert.equal(upstream.seen[0].headers["content-type"], "application/grpc");
        assert.equal(upstream.seen[0].headers["x-envoy-expected-rq-timeout-ms"], "15000");
        assert.equal(upstream.seen[0].headers["x-forwarded-proto"], "http");
        assert.deepEqual(upstream.seen[0].body, frame(Buffer.from("proxy")));
      });

      it("a trailers-only gRPC error reaches the client as one head with its status", async () => {
        const { headers, body } = await grpcCall(run.url, "fail");
        assert.equal(headers[constants.HTTP2_HEADER_STATUS], 200);
        assert.equal(headers["grpc-status"], "5");
        assert.equal(headers["grpc-message"], "not found");
        assert.equal(body.length, 0);
      });

      it("an HTTP/1.1 request with a body goes upstream over HTTP/2", async () => {
        const response = await http1Request(`${run.url}/plain?x=1`, { method: "POST", headers: { "content-type": "text/plain" }, body: ["a", "b"] });
        assert.equal(response.status, 200);
        assert.equal(response.body, "h2 saw /plain?x=1 ab");
        const last = upstream.seen.at(-1)!;
        assert.equal(last.headers[":method"], "POST");
        assert.equal(last.headers[":authority"], new URL(run.url).host);
        assert.equal(last.headers[":scheme"], "http");
      });
    });
  }

  it("te is kept only as `te: trailers`, as Envoy's sanitizeTEHeader keeps it", async () => {
    const run = await runBootstrap(bootstrap(upstream.port, EXPLICIT_HTTP2));
    try {
      await http1Request(`${run.url}/te1`, { headers: { te: "trailers, deflate;q=0.5" } });
      assert.equal(upstream.seen.at(-1)!.headers["te"], "trailers");
      await http1Request(`${run.url}/te2`, { headers: { te: "gzip" } });
      assert.equal(upstream.seen.at(-1)!.headers[":path"], "/te2");
      assert.equal(upstream.seen.at(-1)!.headers["te"], undefined);
    } finally {
      await run.stop();
    }
  });

  it("a cluster without HTTP/2 options is called over HTTP/1.1 (an h2c-only upstream's answer is a protocol error, 502)", async () => {
    const run = await runBootstrap(bootstrap(upstream.port, ""));
    try {
      const response = await http1Request(`${run.url}/plain`);
      // The h2c upstream answers an HTTP/1.1 request with HTTP/2 frames, which Envoy's HTTP/1.1 codec cannot parse.
      assert.equal(response.status, 502);
      assert.equal(response.body, "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
    } finally {
      await run.stop();
    }
  });

  it("use_downstream_protocol_config: an h2c client's request goes out as HTTP/2, an HTTP/1.1 one as HTTP/1.1", async () => {
    const downstream = EXPLICIT_HTTP2.replace("explicit_http_config:\n          http2_protocol_options: {}", "use_downstream_protocol_config: { http2_protocol_options: {} }");
    const run = await runBootstrap(bootstrap(upstream.port, downstream));
    try {
      const { headers, trailers } = await grpcCall(run.url, "both");
      assert.equal(headers[constants.HTTP2_HEADER_STATUS], 200);
      assert.equal(trailers["grpc-status"], "0");
      // The upstream speaks only h2c: an HTTP/1.1 request sent as HTTP/1.1 gets frames it cannot parse.
      const response = await http1Request(`${run.url}/plain`);
      assert.equal(response.status, 502);
      assert.equal(response.body, "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
      assert.doesNotMatch(run.stderr(), /unsupported/, run.stderr());
    } finally {
      await run.stop();
    }
  });

  it("refuses HTTP/3 and ALPN selection, naming the field", async () => {
    const http3 = EXPLICIT_HTTP2.replace("http2_protocol_options", "http3_protocol_options");
    const refused = await refusedBootstrap(bootstrap(upstream.port, http3));
    assert.equal(refused.stderr, "error: static_resources.clusters[0].typed_extension_protocol_options.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.explicit_http_config.http3_protocol_options: HTTP/3 upstreams are not supported\n");
    const auto = EXPLICIT_HTTP2.replace("explicit_http_config:\n          http2_protocol_options: {}", "auto_config: {}");
    const refusedAuto = await refusedBootstrap(bootstrap(upstream.port, auto));
    assert.match(refusedAuto.stderr, /HttpProtocolOptions\.auto_config: ALPN protocol selection is not supported by the dev proxy/);
  });
});

/** FNV-1a 32, as http_auth_random hashes the callout's answer body. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

describe("bootstrap: HTTP callouts to an HTTP/2 cluster", () => {
  it("go over h2c, and the answer reaches the filter (http_auth_random grants the request)", async () => {
    // An answer body whose hash is even: access granted.
    const granted = ["a", "b", "c", "d", "e", "f"].find((text) => fnv1a32(text) % 2 === 0)!;
    const auth = createServer();
    const seen: IncomingHttpHeaders[] = [];
    auth.on("stream", (stream, headers) => {
      seen.push(headers);
      stream.respond({ ":status": 200, "content-type": "text/plain" });
      stream.end(granted);
    });
    await new Promise<void>((resolve) => auth.listen(0, "127.0.0.1", () => resolve()));
    const authPort = (auth.address() as AddressInfo).port;
    const yaml = bootstrap(authPort, EXPLICIT_HTTP2)
      .replace("name: grpc_backend\n    type", "name: httpbin\n    type")
      .replace("cluster_name: grpc_backend", "cluster_name: httpbin")
      .replace("route: { cluster: grpc_backend }", "direct_response: { status: 200, body: { inline_string: passed } }")
      .replace(
        "          http_filters:\n",
        `          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: http_auth_random
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: examples/http_auth_random/build/http_auth_random.wasm } }
`,
      );
    const run = await runBootstrap(yaml);
    try {
      const response = await http1Request(`${run.url}/uuid`, { headers: { "x-custom": "1" } });
      assert.equal(response.status, 200, run.stderr());
      assert.equal(response.body, "passed");
      assert.equal(seen.length, 1);
      assert.equal(seen[0][":path"], "/uuid");
      assert.equal(seen[0]["x-custom"], "1");
      assert.match(run.stderr(), /wasm log http_auth_random: response header from httpbin: :status: 200\n/);
      assert.match(run.stderr(), /wasm log http_auth_random: access granted\n/);
    } finally {
      await run.stop();
      await new Promise<void>((resolve) => auth.close(() => resolve()));
    }
  });
});
