// TLS from an Envoy bootstrap through `proxy-wasm-as run -c`: a listener's `transport_socket`
// (DownstreamTlsContext with certificate files) on TCP and HTTP listeners, and clusters'
// UpstreamTlsContext (sni, trusted_ca) for tcp_proxy and routed HTTP. Bootstraps as in Envoy's
// documentation: https://www.envoyproxy.io/docs/envoy/latest/start/quick-start/securing
// (and api-v3/extensions/transport_sockets/tls/v3/tls.proto). Certificates are made by openssl.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { connect as connectH2, createSecureServer as createH2SecureServer, type Http2SecureServer } from "node:http2";
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { connect as connectTls, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { makeTestCertificates, type TestCertificates } from "../helpers/tls-certificates";
import { conformanceModule, OUT } from "../host/conformance/conformance-module";
import { eventually, runBootstrap, tcpClient, tempDir, type RunningProxy } from "./tcp-test-helpers";

const dir = tempDir();
let certs: TestCertificates;

/** Prepends `[a]` to client bytes and `<a>` to upstream bytes (proxy_set_buffer_bytes). */
const TAGGER = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    (if (local.get $size) (then (drop (call $proxy_set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 0) ${w.str("[a]")}))))
    (i32.const 0))
  (func (export "proxy_on_upstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    (if (local.get $size) (then (drop (call $proxy_set_buffer_bytes (i32.const 3) (i32.const 0) (i32.const 0) ${w.str("<a>")}))))
    (i32.const 0))
  (func (export "proxy_on_downstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("downstream_close", "(local.get $peer)")})
`);

function downstreamTls(alpn = ""): string {
  return `
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              common_tls_context:${alpn}
                tls_certificates:
                  - certificate_chain: { filename: ${certs.certPath} }
                    private_key: { filename: ${certs.keyPath} }`;
}

function upstreamTls(caPath: string): string {
  return `
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          sni: localhost
          common_tls_context:
            validation_context:
              trusted_ca: { filename: ${caPath} }`;
}

function cluster(name: string, port: number, tls: string): string {
  return `
    - name: ${name}
      connect_timeout: 2s
      type: STATIC${tls}
      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`;
}

function tcpBootstrap(clusters: string): string {
  return `
static_resources:
  listeners:
    - name: tls_tcp
      address:
        socket_address: { address: 127.0.0.1, port_value: 0 }
      filter_chains:
        - filters:
            - name: envoy.filters.network.wasm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                config:
                  name: tagger
                  vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, "tagger.wasm")} } } }
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: tls_tcp
                cluster: secure_echo${downstreamTls()}
  clusters:${clusters}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;
}

/** A TLS echo server with the test certificate; records the SNI each connection asked for. */
async function startTlsEcho(): Promise<{ port: number; servernames: (string | false | null)[]; server: TlsServer }> {
  const servernames: (string | false | null)[] = [];
  const server = createTlsServer({ cert: certs.cert, key: certs.key }, (socket: TLSSocket) => {
    servernames.push(socket.servername);
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { port: (server.address() as AddressInfo).port, servernames, server };
}

before(() => {
  certs = makeTestCertificates();
  writeFileSync(join(dir, "tagger.wasm"), TAGGER);
});
after(() => {
  rmSync(certs.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe("TLS on a TCP listener and to its upstream", () => {
  let upstream: Awaited<ReturnType<typeof startTlsEcho>>;
  before(async () => {
    upstream = await startTlsEcho();
  });
  after(() => new Promise<void>((resolve) => upstream.server.close(() => resolve())));

  it("the filters see the plaintext; the upstream is reached over TLS with the configured SNI, verified against trusted_ca", async () => {
    const proxy = await runBootstrap(dir, tcpBootstrap(cluster("secure_echo", upstream.port, upstreamTls(certs.caPath))), "tls-tcp.yaml");
    try {
      const result = await tcpClient(proxy.tcpPort("tls_tcp"), { send: "hello", endAfterSend: true, tls: { ca: certs.ca, servername: "localhost" } });
      assert.deepEqual(result, { data: "<a>[a]hello", gotEnd: true, hadError: false });
      assert.deepEqual(upstream.servernames, ["localhost"]);
      await eventually(() => proxy.wasmMessages().includes("downstream_close=1"));
      assert.match(proxy.stderr(), /TCP listener tls_tcp on tls:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await proxy.stop();
    }
  });

  it("an upstream certificate that trusted_ca does not sign: the connect fails and the client is closed without data", async () => {
    const proxy = await runBootstrap(dir, tcpBootstrap(cluster("secure_echo", upstream.port, upstreamTls(certs.otherCaPath))), "tls-tcp-bad-ca.yaml");
    try {
      const result = await tcpClient(proxy.tcpPort("tls_tcp"), { send: "hello", tls: { ca: certs.ca, servername: "localhost" } });
      assert.equal(result.data, "");
      const stats = await (await fetch(`${proxy.adminUrl}/stats`)).text();
      assert.match(stats, /^cluster\.secure_echo\.upstream_cx_total: 1$/m);
      assert.match(stats, /^cluster\.secure_echo\.upstream_cx_connect_fail: 1$/m);
    } finally {
      await proxy.stop();
    }
  });

  it("a client that does not speak TLS never reaches the filters", async () => {
    const proxy = await runBootstrap(dir, tcpBootstrap(cluster("secure_echo", upstream.port, upstreamTls(certs.caPath))), "tls-tcp-plain.yaml");
    try {
      const result = await tcpClient(proxy.tcpPort("tls_tcp"), { send: "GET / HTTP/1.1\r\n\r\n" });
      assert.equal(result.data.includes("[a]"), false);
      assert.deepEqual(proxy.wasmMessages(), []);
    } finally {
      await proxy.stop();
    }
  });
});

describe("TLS on an HTTP listener, and a routed cluster over TLS", () => {
  let upstream: HttpsServer;
  let upstreamPort: number;
  let proxy: RunningProxy;
  before(async () => {
    upstream = createHttpsServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      const socket = req.socket as TLSSocket;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ path: req.url, xfp: req.headers["x-forwarded-proto"], sni: socket.servername }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));
    upstreamPort = (upstream.address() as AddressInfo).port;
    proxy = await runBootstrap(
      dir,
      `
static_resources:
  listeners:
    - name: https_main
      address:
        socket_address: { address: 127.0.0.1, port_value: 0 }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress_https
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: secure_backend }
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router${downstreamTls(`
                alpn_protocols: [h2, http/1.1]`)}
  clusters:${cluster("secure_backend", upstreamPort, upstreamTls(certs.caPath))}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`,
      "https.yaml",
    );
  });
  after(async () => {
    await proxy.stop();
    await new Promise<void>((resolve) => {
      upstream.close(() => resolve());
      upstream.closeAllConnections();
    });
  });

  it("HTTP/1.1 over TLS: the request reaches the TLS upstream with x-forwarded-proto https and the cluster's SNI", async () => {
    assert.match(proxy.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(proxy.url).port);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port, path: "/hello", ca: certs.ca, servername: "localhost", agent: false }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(body), { path: "/hello", xfp: "https", sni: "localhost" });
  });

  it("HTTP/2 over TLS without ALPN: the connection preface picks HTTP/2, as Envoy's AUTO codec (conn_manager_utility.cc determineNextProtocol)", async () => {
    const socket = connectTls({ host: "127.0.0.1", port: Number(new URL(proxy.url).port), ca: certs.ca, servername: "localhost" });
    await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    assert.equal(socket.alpnProtocol, false);
    const session = connectH2(proxy.url, { createConnection: () => socket });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":path": "/prior-knowledge" });
        stream.on("response", (headers) => resolve(Number(headers[":status"])));
        stream.on("error", reject);
        stream.end();
      });
      assert.equal(status, 200);
    } finally {
      session.close();
    }
  });

  it("HTTP/2 over TLS, chosen by ALPN h2", async () => {
    const session = connectH2(proxy.url, { ca: certs.ca, servername: "localhost" });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ":path": "/h2" });
        let status = 0;
        let text = "";
        stream.on("response", (headers) => (status = Number(headers[":status"])));
        stream.on("data", (chunk: Buffer) => (text += chunk));
        stream.on("end", () => resolve({ status, body: text }));
        stream.on("error", reject);
        stream.end();
      });
      assert.equal(status, 200);
      assert.deepEqual(JSON.parse(body), { path: "/h2", xfp: "https", sni: "localhost" });
      assert.equal((session.socket as TLSSocket).alpnProtocol, "h2");
    } finally {
      session.close();
    }
  });
});

describe("HTTP callouts to a cluster with an UpstreamTlsContext", () => {
  it("the callout goes over TLS with the cluster's SNI; the filter lets the request through on its answer", async () => {
    const { CALLOUT_FILTER } = await import("./wat-filters");
    writeFileSync(join(dir, "callout.wasm"), CALLOUT_FILTER);
    const seen: string[] = [];
    const auth = createHttpsServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      seen.push(`${req.method} ${req.url} sni=${(req.socket as TLSSocket).servername}`);
      res.end("ok");
    });
    await new Promise<void>((resolve) => auth.listen(0, "127.0.0.1", () => resolve()));
    const backend = createHttpsServer({ cert: certs.cert, key: certs.key }, (_req, res) => res.end("backend"));
    await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", () => resolve()));
    const proxy = await runBootstrap(
      dir,
      `
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
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: backend }
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: callout
                        vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, "callout.wasm")} } } }
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:${cluster("auth", (auth.address() as AddressInfo).port, upstreamTls(certs.caPath))}${cluster("backend", (backend.address() as AddressInfo).port, upstreamTls(certs.caPath))}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`,
      "callout-tls.yaml",
    );
    try {
      const response = await fetch(`${proxy.url}/resource`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "backend");
      assert.deepEqual(seen, ["GET /check sni=localhost"]);
    } finally {
      await proxy.stop();
      auth.closeAllConnections();
      backend.closeAllConnections();
      await new Promise<void>((resolve) => auth.close(() => resolve()));
      await new Promise<void>((resolve) => backend.close(() => resolve()));
    }
  });
});

describe("HTTP/2 clusters with an UpstreamTlsContext (TLS with ALPN h2)", () => {
  const H2_OPTIONS = `
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}`;

  it("routed requests, HTTP callouts and gRPC calls reach an HTTP/2-only TLS upstream over h2 with the cluster's SNI", async () => {
    const { CALLOUT_FILTER, GRPC_FILTER } = await import("./wat-filters");
    writeFileSync(join(dir, "callout-h2.wasm"), CALLOUT_FILTER);
    writeFileSync(join(dir, "grpc-h2.wasm"), GRPC_FILTER);
    const seen: string[] = [];
    // allowHTTP1 false: only a client that negotiates h2 by ALPN gets an answer.
    const upstream: Http2SecureServer = createH2SecureServer({ cert: certs.cert, key: certs.key, allowHTTP1: false }, (req, res) => {
      const socket = req.socket as unknown as TLSSocket;
      seen.push(`${req.method} ${req.url} HTTP/${req.httpVersion} alpn=${socket.alpnProtocol} sni=${socket.servername}`);
      if (req.url === "/check") return void res.end("ok");
      if (req.url === "/pkg.Auth/Check") {
        res.setHeader("content-type", "application/grpc");
        res.addTrailers({ "grpc-status": "0" });
        return void res.end(Buffer.from([0, 0, 0, 0, 4, ...Buffer.from("pong")]));
      }
      res.end(`backend ${req.url}`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));
    const port = (upstream.address() as AddressInfo).port;
    const tls = `${upstreamTls(certs.caPath)}${H2_OPTIONS}`;
    const proxy = await runBootstrap(
      dir,
      `
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
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: backend }
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: callout
                        vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, "callout-h2.wasm")} } } }
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: grpc
                        vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, "grpc-h2.wasm")} } } }
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:${cluster("auth", port, tls)}${cluster("grpc", port, tls)}${cluster("backend", port, tls)}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`,
      "h2-tls.yaml",
    );
    try {
      const response = await fetch(`${proxy.url}/resource`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "backend /resource");
      assert.deepEqual(seen, [
        "GET /check HTTP/2.0 alpn=h2 sni=localhost",
        "POST /pkg.Auth/Check HTTP/2.0 alpn=h2 sni=localhost",
        "GET /resource HTTP/2.0 alpn=h2 sni=localhost",
      ]);
    } finally {
      await proxy.stop();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});

describe("client certificates on a TLS listener (mTLS)", () => {
  /** Logs the connection's TLS attributes on each new connection. */
  const INSPECTOR = conformanceModule((w) => {
    const get = (label: string, path: string) => w.log(label, `(call $proxy_get_property ${w.str(path.replaceAll(".", "\u0000"))} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`);
    return `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${get("mtls", "connection.mtls")} ${w.hexOut("mtls_hex")}
    ${get("uri_san_peer", "connection.uri_san_peer_certificate")} ${w.logOut()}
    ${get("dns_san_local", "connection.dns_san_local_certificate")} ${w.logOut()}
    ${get("sni", "connection.requested_server_name")} ${w.logOut()}
    ${get("version", "connection.tls_version")} ${w.logOut()}
    (i32.const 0))
`;
  });

  function listener(name: string, required: boolean): string {
    return `
    - name: ${name}
      address:
        socket_address: { address: 127.0.0.1, port_value: 0 }
      filter_chains:
        - filters:
            - name: envoy.filters.network.wasm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                config:
                  name: ${name}
                  vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, "inspector.wasm")} } } }
            - name: envoy.filters.network.direct_response
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.direct_response.v3.Config
                response: { inline_string: "ok" }
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              require_client_certificate: ${required}
              common_tls_context:
                tls_certificates:
                  - certificate_chain: { filename: ${certs.certPath} }
                    private_key: { filename: ${certs.keyPath} }
                validation_context:
                  trusted_ca: { filename: ${certs.caPath} }`;
  }

  it("a verified client certificate is mtls with its SAN; none is refused when required, accepted otherwise; a foreign one is refused", async () => {
    writeFileSync(join(dir, "inspector.wasm"), INSPECTOR);
    const proxy = await runBootstrap(dir, `
static_resources:
  listeners:${listener("required", true)}${listener("optional", false)}
`, "mtls.yaml");
    try {
      const client = (name: string, cert?: Buffer, key?: Buffer) =>
        tcpClient(proxy.tcpPort(name), { tls: { ca: certs.ca, servername: "localhost", cert, key } });
      const verified = await client("required", certs.clientCert, certs.clientKey);
      assert.equal(verified.data, "ok");
      assert.deepEqual(proxy.wasmMessages(), [
        "mtls=0", "mtls_hex=01",
        "uri_san_peer=0", "spiffe://cluster.local/ns/default/sa/client",
        "dns_san_local=0", "localhost",
        "sni=0", "localhost",
        "version=0", "TLSv1.3",
      ]);
      assert.equal((await client("required")).data, "", "no certificate where one is required");
      assert.equal((await client("required", certs.strangerCert, certs.strangerKey)).data, "", "a certificate of another CA");
      assert.equal((await client("optional", certs.strangerCert, certs.strangerKey)).data, "", "a certificate of another CA, optional or not");
      assert.equal(proxy.wasmMessages().length, 10, "refused connections never reach the filter");
      const anonymous = await client("optional");
      assert.equal(anonymous.data, "ok");
      // No peer certificate: mtls false, and no peer SAN (NotFound, 1).
      assert.deepEqual(proxy.wasmMessages().slice(10, 13), ["mtls=0", "mtls_hex=00", "uri_san_peer=1"]);
    } finally {
      await proxy.stop();
    }
  });

  it("require_client_certificate without a trusted_ca is refused at start", async () => {
    const yaml = `
static_resources:
  listeners:${listener("required", true).replace(/\n {16}validation_context:\n.*/, "")}
`;
    await assert.rejects(runBootstrap(dir, yaml, "mtls-no-ca.yaml"), /require_client_certificate: needs common_tls_context\.validation_context\.trusted_ca to verify client certificates with/);
  });
});
