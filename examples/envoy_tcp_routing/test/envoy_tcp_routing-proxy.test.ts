// envoy_tcp_routing on real connections: `proxy-wasm-as run -c` with the README's Envoy bootstrap
// (the listener's tcp_proxy defaults to egress-router1), two upstreams that answer with their
// names as the README's direct_response listeners do, and clients from 127.0.0.1 (odd last byte:
// egress-router2) and 127.0.0.2 (even: egress-router1). The filter picks the cluster through the
// filter state `envoy.tcp_proxy.cluster` (foreign function set_envoy_filter_state), which the
// proxy's tcp_proxy reads as Envoy's does.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect, createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const wasm = fileURLToPath(new URL("../build/envoy_tcp_routing.wasm", import.meta.url));
const cli = join(dirname(createRequire(import.meta.url).resolve("proxy-wasm-as/package.json")), "bin", "proxy-wasm-as.js");

function bootstrap(router1: number, router2: number, defaultCluster = "egress-router1", withRouter2 = true): string {
  const cluster = (name: string, port: number) => `
    - name: ${name}
      connect_timeout: 1s
      type: STATIC
      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`;
  return `
static_resources:
  listeners:
    - name: main
      address:
        socket_address: { address: 127.0.0.1, port_value: 0 }
      filter_chains:
        - filters:
            - name: envoy.filters.network.wasm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                config:
                  name: envoy_tcp_routing
                  configuration:
                    "@type": type.googleapis.com/google.protobuf.StringValue
                    value: route by source address
                  vm_config:
                    runtime: envoy.wasm.runtime.v8
                    code:
                      local:
                        filename: ${wasm}
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: ingress_tcp
                # Used when the filter did not set envoy.tcp_proxy.cluster.
                cluster: ${defaultCluster}
  clusters:${cluster("egress-router1", router1)}${withRouter2 ? cluster("egress-router2", router2) : ""}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;
}

/** Answers every connection with its name, then closes (as Envoy's direct_response filter). */
async function nameServer(name: string): Promise<Server> {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.end(`${name}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

interface Proxy {
  child: ChildProcess;
  port: number;
  admin: string;
  stderr(): string;
  stop(): Promise<void>;
}

async function startProxy(yaml: string): Promise<Proxy> {
  const dir = mkdtempSync(join(tmpdir(), "tcp-routing-example-"));
  writeFileSync(join(dir, "envoy.yaml"), yaml);
  const child = spawn(process.execPath, [cli, "run", "-c", "envoy.yaml"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  await until(() => /TCP listener main on tcp:/.test(stdout) || child.exitCode !== null, "the proxy to listen");
  const port = Number(/TCP listener main on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
  const admin = /\(admin (http:\/\/[^)]+)\)/.exec(stdout)?.[1] ?? "";
  assert.ok(port > 0, `proxy output:\n${stdout}\n${stderr}`);
  return {
    child,
    port,
    admin,
    stderr: () => stderr,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `nc -s <from> <proxy>`: connects from `localAddress`, reads until closed. Its local port too. */
function fetchFrom(port: number, localAddress: string): Promise<{ data: string; localPort: number; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress, allowHalfOpen: true });
    let data = "";
    let localPort = 0;
    let reset = false;
    socket.on("connect", () => (localPort = socket.localPort ?? 0));
    socket.on("data", (chunk) => (data += chunk));
    socket.on("end", () => socket.end());
    socket.on("error", () => (reset = true));
    socket.on("close", () => resolve({ data, localPort, reset }));
  });
}

/** Filter log lines (`wasm log ...: <message>`) on the proxy's stderr. */
function wasmMessages(stderr: string): string[] {
  return [...stderr.matchAll(/\[wasm\] \[context \d+\] wasm log[^:]*: (.*)/g)].map((match) => match[1]);
}

let router1: Server;
let router2: Server;
before(async () => {
  router1 = await nameServer("egress-router1");
  router2 = await nameServer("egress-router2");
});
after(() => {
  router1.close();
  router2.close();
});

test("each connection reaches the cluster its source address picks, and the routing is logged", async () => {
  const proxy = await startProxy(bootstrap(portOf(router1), portOf(router2)));
  try {
    const odd = await fetchFrom(proxy.port, "127.0.0.1");
    assert.equal(odd.data, "egress-router2\n");
    const even = await fetchFrom(proxy.port, "127.0.0.2");
    assert.equal(even.data, "egress-router1\n");
    await until(() => wasmMessages(proxy.stderr()).length >= 3, "the log lines");
    assert.deepEqual(wasmMessages(proxy.stderr()), [
      '[TCP WASM] Configuration: "route by source address"',
      `[TCP WASM] Routed source 127.0.0.1:${odd.localPort} to egress-router2`,
      `[TCP WASM] Routed source 127.0.0.2:${even.localPort} to egress-router1`,
    ]);
    const stats = await (await fetch(`${proxy.admin}/stats`)).text();
    assert.match(stats, /^cluster\.egress-router1\.upstream_cx_total: 1$/m);
    assert.match(stats, /^cluster\.egress-router2\.upstream_cx_total: 1$/m);
  } finally {
    await proxy.stop();
  }
});

test("a cluster the filter names but the bootstrap lacks: the connection is closed, downstream_cx_no_route counts it", async () => {
  // tcp_proxy's own cluster would be router1; the filter's choice wins, as in Envoy (tcp_proxy.cc pickRoute).
  const proxy = await startProxy(bootstrap(portOf(router1), portOf(router2), "egress-router1", false));
  try {
    const odd = await fetchFrom(proxy.port, "127.0.0.1");
    assert.equal(odd.data, "");
    const stats = await (await fetch(`${proxy.admin}/stats`)).text();
    assert.match(stats, /^tcp\.ingress_tcp\.downstream_cx_no_route: 1$/m);
    assert.doesNotMatch(stats, /^cluster\.egress-router1\.upstream_cx_total/m);
  } finally {
    await proxy.stop();
  }
});
