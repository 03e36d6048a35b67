// The network example on real connections: `proxy-wasm-as run -c` with the README's Envoy
// bootstrap (its TCP listener and the cluster with `location` metadata), a raw TCP client and an
// upstream that answers one HTTP request and closes, as the README's web_service does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const wasm = fileURLToPath(new URL("../build/network.wasm", import.meta.url));
const cli = join(dirname(createRequire(import.meta.url).resolve("proxy-wasm-as/package.json")), "bin", "proxy-wasm-as.js");

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

/** The message of each filter log line on stderr (`... wasm log network: <message>`), multi-line ones whole. */
function wasmMessages(stderr: string): string[] {
  // Each line ends with "\n"; a message may contain newlines (and end with one) itself.
  return stderr
    .replace(/\n$/, "")
    .split(/\n(?=\[\d{4}-)/)
    .map((entry) => /^[^\n]*?\[wasm\] \[context \d+\] wasm log network: ([\s\S]*)$/.exec(entry)?.[1])
    .filter((message): message is string => message !== undefined);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
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
  const dir = mkdtempSync(join(tmpdir(), "network-example-"));
  writeFileSync(join(dir, "envoy.yaml"), bootstrap((upstream.address() as AddressInfo).port));
  const proxy = spawn(process.execPath, [cli, "run", "-c", "envoy.yaml"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proxy.stdout.on("data", (chunk) => (stdout += chunk));
  proxy.stderr.on("data", (chunk) => (stderr += chunk));
  try {
    await until(() => /TCP listener tcp_main on tcp:\/\/127\.0\.0\.1:\d+/.test(stdout) || proxy.exitCode !== null, "the proxy to listen");
    const port = Number(/TCP listener tcp_main on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    const admin = /\(admin (http:\/\/[^)]+)\)/.exec(stdout)?.[1];
    assert.ok(port > 0 && admin !== undefined, `proxy output:\n${stdout}\n${stderr}`);

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

    await until(() => wasmMessages(stderr).includes("connection complete!"), "the connection to complete");
    assert.deepEqual(wasmMessages(stderr), [
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
    assert.doesNotMatch(stderr, /\]\[(warning|error)\]\[wasm\]/);
    const stats = await (await fetch(`${admin}/stats`)).text();
    assert.match(stats, /^wasmcustom\.proxy_wasm_as\.connection_counter: 1$/m);
  } finally {
    proxy.kill("SIGTERM");
    await new Promise((resolve) => (proxy.exitCode !== null ? resolve(null) : proxy.once("exit", resolve)));
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
