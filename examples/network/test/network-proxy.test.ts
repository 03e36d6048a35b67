// The network example on real connections: `proxy-wasm-as run -c` with the README's Envoy
// bootstrap (its TCP listener and the cluster with `location` metadata), a raw TCP client and an
// upstream that answers one HTTP request and closes, as the README's web_service does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { eventually, runBootstrap, tempDir } from "../../../tests/proxy/tcp-test-helpers";

const wasm = fileURLToPath(new URL("../build/network.wasm", import.meta.url));

const request = "GET / HTTP/1.1\r\nHost: localhost\r\nThis-Is-Key: this-is-value\r\nConnection: close\r\n\r\n";
const response = "HTTP/1.1 200 OK\r\ncontent-length: 13\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nexample body\n";

function bootstrap(upstreamPort: number): string {
  return `
static_resources:
  listeners:
    - name: tcp_main
      address:
        socket_address: { address: 127.0.0.1, port_value: 0 }
      filter_chains:
        - filters:
            - name: envoy.filters.network.wasm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                config:
                  name: network
                  vm_config:
                    runtime: envoy.wasm.runtime.v8
                    code:
                      local:
                        filename: ${wasm}
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: ingress_tcp
                cluster: web_service
  clusters:
    - name: web_service
      connect_timeout: 1s
      type: STATIC
      metadata:
        filter_metadata:
          location:
            region: ap-northeast-1
            cloud_provider: aws
            az: ap-northeast-1a
      load_assignment:
        cluster_name: web_service
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

test("through the dev proxy: exact bytes both ways, every log line in order, the counter in /stats", async () => {
  // The upstream answers the request once it is complete, then closes (Connection: close).
  const upstream = createServer((socket) => {
    let seen = "";
    socket.on("data", (chunk) => {
      seen += chunk;
      if (seen.includes("\r\n\r\n")) socket.end(response);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));
  const dir = tempDir();
  const proxy = await runBootstrap(dir, bootstrap((upstream.address() as AddressInfo).port));
  try {
    const port = proxy.tcpPort("tcp_main");
    const admin = proxy.adminUrl;
    assert.ok(port > 0 && admin !== null, proxy.stderr());

    // A client like curl: it sends the request, reads until the proxy ends, then closes.
    const received = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => socket.write(request));
      let data = "";
      socket.on("data", (chunk) => (data += chunk));
      socket.on("end", () => socket.end());
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
    });
    assert.equal(received, response);

    await eventually(() => proxy.wasmMessages().includes("connection complete!"), 20_000);
    assert.deepEqual(proxy.wasmMessages(), [
      "new connection!",
      `>>>>>> downstream data received >>>>>>\n${request}`,
      `remote address: 127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      "upstream cluster metadata location[region]=ap-northeast-1",
      "upstream cluster metadata location[cloud_provider]=aws",
      "upstream cluster metadata location[az]=ap-northeast-1a",
      `<<<<<< upstream data received <<<<<<\n${response}`,
      "downstream connection close!",
      "connection complete!",
    ]);
    assert.doesNotMatch(proxy.stderr(), /\]\[(warning|error)\]\[wasm\]/);
    const stats = await (await fetch(`${admin}/stats`)).text();
    assert.match(stats, /^wasmcustom\.proxy_wasm_as\.connection_counter: 1$/m);
  } finally {
    await proxy.stop();
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
