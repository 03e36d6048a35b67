// TCP listeners of an Envoy bootstrap through `proxy-wasm-as run -c`, with raw TCP clients and
// upstreams on loopback. The bootstraps are written as Envoy's documentation writes them:
// https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/tcp_proxy_filter
// https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/wasm_filter
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto
// Callback order and close semantics are Envoy's (envoy source/extensions/common/wasm/context.cc
// onNewConnection/onData/onWrite/onEvent; source/common/tcp_proxy/tcp_proxy.cc).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { connect as connectSocket, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { conformanceModule, OUT } from "../host/conformance/conformance-module";
import { echo, eventually, runBootstrap, startTcpServer, tcpClient, tempDir, type RunningProxy, type TestServer } from "./tcp-test-helpers";

/**
 * A network filter that logs every callback, prepends `[<tag>]` to each downstream chunk and
 * `<<tag>>` to each upstream chunk (proxy_set_buffer_bytes start 0, length 0: prepend).
 */
function tagger(tag: string): Uint8Array {
  return conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${w.say("new_connection")}
    (i32.const 0))
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("downstream_data", "(local.get $size)")}
    ${w.log("downstream_eos", "(local.get $eos)")}
    (if (local.get $size) (then (drop (call $proxy_set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 0) ${w.str(`[${tag}]`)}))))
    (i32.const 0))
  (func (export "proxy_on_upstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("upstream_data", "(local.get $size)")}
    ${w.log("upstream_eos", "(local.get $eos)")}
    (if (local.get $size) (then (drop (call $proxy_set_buffer_bytes (i32.const 3) (i32.const 0) (i32.const 0) ${w.str(`<${tag}>`)}))))
    (i32.const 0))
  (func (export "proxy_on_upstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("upstream_close", "(local.get $peer)")})
  (func (export "proxy_on_downstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("downstream_close", "(local.get $peer)")})
  (func (export "proxy_on_done") (param $id i32) (result i32)
    ${w.say("done")}
    (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))
`);
}

/** Traps in `proxy_on_downstream_data`: the VM fails and the filter's failure policy applies. */
const TRAPPER = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${w.say("new_connection")}
    (i32.const 0))
  (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
    unreachable)
  (func (export "proxy_on_downstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("downstream_close", "(local.get $peer)")})
`);

/** Closes the connection (`proxy_close_stream(Downstream)`) when the client sends anything. */
const CLOSER = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("close_stream", "(call $proxy_close_stream (i32.const 2))")}
    (i32.const 1))
  (func (export "proxy_on_downstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("downstream_close", "(local.get $peer)")})
`);

/** Returns StopIteration from `proxy_on_new_connection`; lets every byte through. */
const STOPPER = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${w.say("new_connection: stop")}
    (i32.const 1))
  (func (export "proxy_on_downstream_data") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("downstream_data", "(local.get $size)")}
    (i32.const 0))
  (func (export "proxy_on_downstream_connection_close") (param $id i32) (param $peer i32)
    ${w.log("downstream_close", "(local.get $peer)")})
`);

const dir = tempDir();
for (const [name, bytes] of [["a.wasm", tagger("a")], ["b.wasm", tagger("b")], ["trap.wasm", TRAPPER], ["close.wasm", CLOSER], ["stop.wasm", STOPPER]] as const) {
  writeFileSync(join(dir, name), bytes);
}

function wasmFilter(name: string, file: string, extra = ""): string {
  return `
            - name: envoy.filters.network.wasm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                config:
                  name: ${name}${extra}
                  vm_config:
                    runtime: envoy.wasm.runtime.v8
                    code: { local: { filename: ${join(dir, file)} } }`;
}

function tcpProxy(cluster: string, extra = ""): string {
  return `
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: ingress_tcp
                cluster: ${cluster}${extra}`;
}

function cluster(name: string, port: number, extra = ""): string {
  return `
    - name: ${name}
      connect_timeout: 2s
      type: STATIC${extra}
      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`;
}

function bootstrap(filters: string, clusters: string, transportSocket = ""): string {
  return `
static_resources:
  listeners:
    - name: tcp_main
      address:
        socket_address: { address: 127.0.0.1, port_value: 0 }
      filter_chains:
        - filters:${filters}${transportSocket}
  clusters:${clusters}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
`;
}

async function stats(proxy: RunningProxy): Promise<string[]> {
  const response = await fetch(`${proxy.adminUrl}/stats`);
  return (await response.text()).split("\n").filter((line) => /^(tcp|cluster)\./.test(line));
}

describe("TCP listener: network Wasm filters before tcp_proxy", () => {
  let upstream: TestServer;
  let greeter: TestServer;
  let proxy: RunningProxy;
  before(async () => {
    upstream = await startTcpServer(echo);
    // Writes `bye` and half-closes at once; closes when the client's FIN arrives.
    greeter = await startTcpServer((socket) => socket.end("bye"));
    proxy = await runBootstrap(
      dir,
      bootstrap(`${wasmFilter("a", "a.wasm")}${wasmFilter("b", "b.wasm")}${tcpProxy("echo")}`, `${cluster("echo", upstream.port)}${cluster("greeter", greeter.port)}`),
    );
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
    await greeter.close();
  });

  it("reads run through the filters in order, writes in reverse; each filter's buffer edits go on the wire", async () => {
    const before = proxy.wasmMessages().length;
    const result = await tcpClient(proxy.tcpPort("tcp_main"), { send: "hello", endAfterSend: true });
    assert.deepEqual(result, { data: "<a><b>[b][a]hello", gotEnd: true, hadError: false });
    assert.equal(upstream.received.at(-1), "[b][a]hello");
    await eventually(() => proxy.wasmMessages().slice(before).filter((m) => m === "done").length === 2);
    // Client data and FIN arrive before the upstream answers; the upstream's FIN follows its data.
    // The proxy's FIN to the client goes last, so the connection closes LOCAL (1).
    assert.deepEqual(proxy.wasmMessages().slice(before), [
      "new_connection", // a
      "new_connection", // b
      "downstream_data=5", "downstream_eos=0", // a
      "downstream_data=8", "downstream_eos=0", // b sees a's edit
      "downstream_data=0", "downstream_eos=1", // a
      "downstream_data=0", "downstream_eos=1", // b
      "upstream_data=11", "upstream_eos=0", // b first
      "upstream_data=14", "upstream_eos=0", // a sees b's edit
      "upstream_data=0", "upstream_eos=1", "upstream_close=0", // b: end of stream, then upstream close (UNKNOWN)
      "upstream_data=0", "upstream_eos=1", "upstream_close=0", // a
      "downstream_close=1", "done", // a first
      "downstream_close=1", "done",
    ]);
  });

  it("the upstream ends first and the client's FIN comes last: the connection closes REMOTE (2)", async () => {
    const greeterProxy = await runBootstrap(dir, bootstrap(`${wasmFilter("a", "a.wasm")}${tcpProxy("greeter")}`, cluster("greeter", greeter.port)), "greeter.yaml");
    try {
      const result = await tcpClient(greeterProxy.tcpPort("tcp_main"));
      assert.deepEqual(result, { data: "<a>bye", gotEnd: true, hadError: false });
      await eventually(() => greeterProxy.wasmMessages().includes("done"));
      assert.deepEqual(greeterProxy.wasmMessages(), [
        "new_connection",
        "upstream_data=3", "upstream_eos=0",
        "upstream_data=0", "upstream_eos=1", "upstream_close=0",
        "downstream_data=0", "downstream_eos=1",
        "downstream_close=2", "done",
      ]);
    } finally {
      await greeterProxy.stop();
    }
  });

  it("a client that resets the connection: REMOTE close, nothing more reaches the filters", async () => {
    const before = proxy.wasmMessages().length;
    const port = proxy.tcpPort("tcp_main");
    await new Promise<void>((resolve) => {
      const socket = tcpClientSocket(port, () => {
        socket.write("x");
        setTimeout(() => {
          socket.resetAndDestroy();
          resolve();
        }, 200);
      });
    });
    await eventually(() => proxy.wasmMessages().slice(before).filter((m) => m === "done").length === 2);
    const messages = proxy.wasmMessages().slice(before);
    assert.deepEqual(messages.filter((m) => m.startsWith("downstream_close")), ["downstream_close=2", "downstream_close=2"]);
    assert.equal(messages.at(-1), "done");
  });

  it("tcp_proxy stats are named as Envoy names them", async () => {
    const lines = await stats(proxy);
    assert.ok(lines.includes(`tcp.ingress_tcp.downstream_cx_total: ${upstream.connections}`), lines.join("\n"));
    assert.ok(lines.includes(`cluster.echo.upstream_cx_total: ${upstream.connections}`), lines.join("\n"));
    assert.ok(lines.some((line) => /^tcp\.ingress_tcp\.downstream_cx_rx_bytes_total: \d+$/.test(line)), lines.join("\n"));
  });
});

function tcpClientSocket(port: number, onConnect: () => void): Socket {
  const socket = connectSocket({ host: "127.0.0.1", port }, onConnect);
  socket.on("error", () => {});
  return socket;
}

describe("TCP listener: failures close the connection as Envoy does", () => {
  let upstream: TestServer;
  before(async () => {
    upstream = await startTcpServer(echo);
  });
  after(() => upstream.close());

  it("FAIL_CLOSED: a trap in proxy_on_downstream_data closes the connection; nothing reaches the upstream", async () => {
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("trap", "trap.wasm")}${tcpProxy("echo")}`, cluster("echo", upstream.port)), "trap.yaml");
    try {
      const connectionsBefore = upstream.connections;
      const result = await tcpClient(proxy.tcpPort("tcp_main"), { send: "hello" });
      assert.deepEqual(result, { data: "", gotEnd: true, hadError: false });
      // A failed VM gets no further callback, the close included (as in Envoy).
      assert.deepEqual(proxy.wasmMessages(), ["new_connection"]);
      assert.match(proxy.stderr(), /Function: proxy_on_downstream_data failed: Uncaught RuntimeError: unreachable/);
      // The upstream was connected (tcp_proxy connects on the new connection) but got no byte.
      await eventually(() => upstream.connections === connectionsBefore + 1);
      assert.equal(upstream.received.at(-1), "");
    } finally {
      await proxy.stop();
    }
  });

  it("FAIL_OPEN: after the trap the bytes pass unfiltered", async () => {
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("trap", "trap.wasm", "\n                  failure_policy: FAIL_OPEN")}${tcpProxy("echo")}`, cluster("echo", upstream.port)), "trap-open.yaml");
    try {
      const result = await tcpClient(proxy.tcpPort("tcp_main"), { send: "hello", endAfterSend: true });
      assert.deepEqual(result, { data: "hello", gotEnd: true, hadError: false });
    } finally {
      await proxy.stop();
    }
  });

  it("proxy_close_stream closes the connection (LOCAL, FlushWrite); the held bytes never reach the upstream", async () => {
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("closer", "close.wasm")}${tcpProxy("echo")}`, cluster("echo", upstream.port)), "close.yaml");
    try {
      const result = await tcpClient(proxy.tcpPort("tcp_main"), { send: "hello" });
      assert.equal(result.data, "");
      await eventually(() => proxy.wasmMessages().includes("downstream_close=1"));
      assert.deepEqual(proxy.wasmMessages(), ["close_stream=0", "downstream_close=1"]);
      assert.equal(upstream.received.at(-1), "");
    } finally {
      await proxy.stop();
    }
  });

  it("an upstream that refuses the connection: the client is closed without data (LOCAL), upstream_cx_connect_fail counts it", async () => {
    const refusing = await startTcpServer(() => {});
    const port = refusing.port;
    await refusing.close();
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("a", "a.wasm")}${tcpProxy("gone")}`, cluster("gone", port)), "refused.yaml");
    try {
      const result = await tcpClient(proxy.tcpPort("tcp_main"), { send: "hello" });
      assert.equal(result.data, "");
      await eventually(() => proxy.wasmMessages().includes("done"));
      assert.deepEqual(proxy.wasmMessages(), ["new_connection", "downstream_data=5", "downstream_eos=0", "downstream_close=1", "done"]);
      const lines = await stats(proxy);
      assert.ok(lines.includes("cluster.gone.upstream_cx_connect_fail: 1"), lines.join("\n"));
    } finally {
      await proxy.stop();
    }
  });

  it("a filter that stops in proxy_on_new_connection: tcp_proxy connects only when bytes pass the filter, then the filters behind it start", async () => {
    // An upstream of its own: connections other tests' proxies made may still arrive at the shared one.
    const own = await startTcpServer(echo);
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("stop", "stop.wasm")}${wasmFilter("a", "a.wasm")}${tcpProxy("echo")}`, cluster("echo", own.port)), "stop.yaml");
    try {
      // Nothing sent yet: the chain waits at the first filter, no upstream connection (Envoy's
      // onContinueReading runs the next filter's onNewConnection only when bytes or a FIN pass).
      await new Promise<void>((resolve) => {
        const silent = tcpClientSocket(proxy.tcpPort("tcp_main"), () =>
          setTimeout(() => {
            silent.destroy();
            resolve();
          }, 300),
        );
      });
      assert.equal(own.connections, 0);
      const result = await tcpClient(proxy.tcpPort("tcp_main"), { send: "hi", endAfterSend: true });
      assert.deepEqual(result, { data: "<a>[a]hi", gotEnd: true, hadError: false });
      // Two filters on each of the two connections (the silent one's FIN passed the first filter too).
      await eventually(() => proxy.wasmMessages().filter((m) => m.startsWith("downstream_close")).length === 4);
      const messages = proxy.wasmMessages();
      // The second connection: the filter behind the stopped one starts with the first bytes.
      const second = messages.slice(messages.indexOf("new_connection: stop", messages.indexOf("new_connection: stop") + 1));
      assert.deepEqual(second.slice(0, 5), ["new_connection: stop", "downstream_data=2", "new_connection", "downstream_data=2", "downstream_eos=0"]);
    } finally {
      await proxy.stop();
      await own.close();
    }
  });

  it("16 MB each way through a filter arrive whole and in order (flow control between the two sockets)", async () => {
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("stop", "stop.wasm")}${tcpProxy("echo")}`, cluster("echo", upstream.port)), "bulk.yaml");
    try {
      const payload = Buffer.alloc(16 * 1024 * 1024);
      for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
      const received = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = connectSocket({ host: "127.0.0.1", port: proxy.tcpPort("tcp_main"), allowHalfOpen: true }, () => socket.end(payload));
        const guard = setTimeout(() => socket.destroy(new Error("no full echo within 60 s")), 60_000);
        socket.on("data", (chunk: Buffer) => chunks.push(chunk));
        socket.on("end", () => socket.end());
        socket.on("error", reject);
        socket.on("close", () => {
          clearTimeout(guard);
          resolve(Buffer.concat(chunks));
        });
      });
      assert.equal(received.length, payload.length);
      assert.ok(received.equals(payload), "the echoed bytes differ");
    } finally {
      await proxy.stop();
    }
  });

  it("stopping the proxy closes open connections LOCAL, and the filters see it before they are shut down", async () => {
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("a", "a.wasm")}${tcpProxy("echo")}`, cluster("echo", upstream.port)), "stop-open.yaml");
    let data = "";
    const closed = new Promise<void>((resolve) => {
      const socket = tcpClientSocket(proxy.tcpPort("tcp_main"), () => socket.write("x"));
      socket.on("data", (chunk: Buffer) => (data += chunk));
      socket.on("close", () => resolve());
    });
    await eventually(() => data === "<a>[a]x");
    assert.equal(await proxy.stop(), 0);
    await closed;
    assert.deepEqual(proxy.wasmMessages().slice(-2), ["downstream_close=1", "done"]);
    assert.doesNotMatch(proxy.stderr(), /\]\[(error|critical)\]/);
  });

  it("--watch: a rebuilt network filter serves new connections while an open one finishes on the old VM", async () => {
    writeFileSync(join(dir, "reloaded.wasm"), tagger("old"));
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("r", "reloaded.wasm")}${tcpProxy("echo")}`, cluster("echo", upstream.port)), "reload.yaml", ["--watch"]);
    try {
      let openData = "";
      const open = tcpClientSocket(proxy.tcpPort("tcp_main"), () => open.write("1"));
      open.on("data", (chunk: Buffer) => (openData += chunk));
      await eventually(() => openData === "<old>[old]1");
      // Another length too, so the change shows even where mtime is coarse.
      writeFileSync(join(dir, "reloaded.wasm"), tagger("newer"));
      await eventually(() => proxy.stderr().includes(`reloaded ${join(dir, "reloaded.wasm")}: new connections use the new VM`));
      const fresh = await tcpClient(proxy.tcpPort("tcp_main"), { send: "2", endAfterSend: true });
      assert.equal(fresh.data, "<newer>[newer]2");
      open.write("3");
      await eventually(() => openData === "<old>[old]1<old>[old]3");
      open.end();
      await eventually(() => proxy.wasmMessages().filter((m) => m === "done").length === 2);
      assert.match(await (await fetch(`${proxy.adminUrl}/stats`)).text(), /^wasm\.r\.hot_reload: 1$/m);
    } finally {
      await proxy.stop();
    }
  });

  it("tcp_proxy's idle_timeout closes a quiet connection (LOCAL) and counts idle_timeout", async () => {
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("a", "a.wasm")}${tcpProxy("echo", "\n                idle_timeout: 0.3s")}`, cluster("echo", upstream.port)), "idle.yaml");
    try {
      const result = await tcpClient(proxy.tcpPort("tcp_main"));
      assert.deepEqual(result, { data: "", gotEnd: true, hadError: false });
      await eventually(() => proxy.wasmMessages().includes("done"));
      assert.deepEqual(proxy.wasmMessages(), ["new_connection", "downstream_close=1", "done"]);
      const lines = await stats(proxy);
      assert.ok(lines.includes("tcp.ingress_tcp.idle_timeout: 1"), lines.join("\n"));
    } finally {
      await proxy.stop();
    }
  });

  it("tcp_proxy to a cluster the bootstrap does not define: a warning, and each connection is closed with downstream_cx_no_route", async () => {
    const proxy = await runBootstrap(dir, bootstrap(`${wasmFilter("a", "a.wasm")}${tcpProxy("ghost")}`, cluster("echo", upstream.port)), "ghost.yaml");
    try {
      assert.match(proxy.stderr(), /\[warning\]\[config\] \[config\] unsupported: static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[1\]\.typed_config\.cluster: cluster "ghost" is not defined in static_resources\.clusters; tcp_proxy closes every connection \(downstream_cx_no_route\)/);
      const result = await tcpClient(proxy.tcpPort("tcp_main"), { send: "hello" });
      assert.equal(result.data, "");
      await eventually(() => proxy.wasmMessages().includes("done"));
      assert.deepEqual(proxy.wasmMessages(), ["new_connection", "downstream_close=1", "done"]);
      const lines = await stats(proxy);
      assert.ok(lines.includes("tcp.ingress_tcp.downstream_cx_no_route: 1"), lines.join("\n"));
    } finally {
      await proxy.stop();
    }
  });

  it("a TypedStruct-wrapped network Wasm filter and a direct_response terminal: the response passes the filter's write path, then LOCAL close", async () => {
    const typedStruct = `
            - name: envoy.filters.network.wasm
              typed_config:
                "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                type_url: type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                value:
                  config:
                    name: a
                    vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, "a.wasm")} } } }
            - name: envoy.filters.network.direct_response
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.direct_response.v3.Config
                response: { inline_string: "hi there\\n" }`;
    const proxy = await runBootstrap(dir, bootstrap(typedStruct, " []"), "direct.yaml");
    try {
      const result = await tcpClient(proxy.tcpPort("tcp_main"));
      assert.deepEqual(result, { data: "<a>hi there\n", gotEnd: true, hadError: false });
      await eventually(() => proxy.wasmMessages().includes("done"));
      assert.deepEqual(proxy.wasmMessages(), ["new_connection", "upstream_data=9", "upstream_eos=0", "downstream_close=1", "done"]);
      assert.match(proxy.stderr(), /listening on \(no HTTP listener\), TCP listener tcp_main on tcp:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await proxy.stop();
    }
  });
});

describe("TCP listener: bootstraps the proxy refuses, naming the field", () => {
  async function refused(name: string, yaml: string): Promise<string> {
    await assert.rejects(runBootstrap(dir, yaml, name), (error: Error) => {
      refusal = error.message;
      return true;
    });
    return refusal.split("\n").filter((line) => line.startsWith("error: ")).at(-1) ?? refusal;
  }
  let refusal = "";

  it("no terminal filter", async () => {
    assert.equal(
      await refused("no-terminal.yaml", bootstrap(wasmFilter("a", "a.wasm"), cluster("echo", 1))),
      "error: static_resources.listeners[0].filter_chains[0].filters: no terminal filter (envoy.filters.network.tcp_proxy or envoy.filters.network.direct_response) at the end",
    );
  });

  it("a filter after tcp_proxy", async () => {
    assert.equal(
      await refused("after.yaml", bootstrap(`${tcpProxy("echo")}${wasmFilter("a", "a.wasm")}`, cluster("echo", 1))),
      "error: static_resources.listeners[0].filter_chains[0].filters[1]: envoy.filters.network.wasm comes after the terminal filter envoy.filters.network.tcp_proxy",
    );
  });

  it("a network filter the dev proxy does not have", async () => {
    const rbac = `
            - name: envoy.filters.network.rbac
              typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC, stat_prefix: r }`;
    assert.equal(
      await refused("rbac.yaml", bootstrap(`${rbac}${tcpProxy("echo")}`, cluster("echo", 1))),
      "error: static_resources.listeners[0].filter_chains[0].filters[0]: network filter envoy.filters.network.rbac is not supported by the dev proxy (it has envoy.filters.network.wasm, envoy.filters.network.tcp_proxy and envoy.filters.network.direct_response)",
    );
  });

  it("a TypedStruct that holds another message than the filter's (read by the HTTP filters' unwrap, typed-struct.ts)", async () => {
    const wrong = `
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/xds.type.v3.TypedStruct
                type_url: type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                value: { stat_prefix: t, cluster: echo }`;
    assert.equal(
      await refused("wrong-typed-struct.yaml", bootstrap(wrong, cluster("echo", 1))),
      'error: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.type_url: "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm" is not envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
    );
  });

  it("a certificate file that does not exist", async () => {
    const tls = `
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              common_tls_context:
                tls_certificates:
                  - certificate_chain: { filename: ${join(dir, "missing.crt")} }
                    private_key: { filename: ${join(dir, "missing.key")} }`;
    assert.equal(
      await refused("missing-cert.yaml", bootstrap(tcpProxy("echo"), cluster("echo", 1), tls)),
      `error: static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain.filename: cannot read ${join(dir, "missing.crt")}: ENOENT: no such file or directory, open '${join(dir, "missing.crt")}'`,
    );
  });
});

describe("TCP and HTTP filters in one process", () => {
  /** Network filter: stores shared data `seen` = `tcp connection` on each new connection. */
  const SETTER = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_new_connection") (param $id i32) (result i32)
    ${w.log("set", `(call $proxy_set_shared_data ${w.str("seen")} ${w.str("tcp connection")} (i32.const 0))`)}
    (i32.const 0))
`);
  /** HTTP filter: logs the shared data `seen` on each request. */
  const READER = conformanceModule((w) => `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    ${w.log("get", `(call $proxy_get_shared_data ${w.str("seen")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}) (i32.const ${OUT.extra}))`)}
    ${w.logOut()}
    (i32.const 0))
`);

  it("share shared data by vm_id, as Envoy's VMs do process-wide", async () => {
    writeFileSync(join(dir, "setter.wasm"), SETTER);
    writeFileSync(join(dir, "reader.wasm"), READER);
    const backend = await startHttpBackend();
    const plugin = (name: string, file: string) => `
                config:
                  name: ${name}
                  vm_config: { vm_id: shared_vm, runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, file)} } } }`;
    const proxy = await runBootstrap(
      dir,
      `
static_resources:
  listeners:
    - name: http
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress_http
                route_config:
                  virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: backend } }] }]
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm${plugin("reader", "reader.wasm").replace(/\n {16}/g, "\n                      ")}
                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
    - name: tcp
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.wasm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm${plugin("setter", "setter.wasm")}
            - name: envoy.filters.network.direct_response
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.direct_response.v3.Config
                response: { inline_string: "done" }
  clusters:${cluster("backend", backend.port)}
`,
      "shared.yaml",
    );
    try {
      assert.equal((await fetch(`${proxy.url}/before`)).status, 200);
      assert.equal((await tcpClient(proxy.tcpPort("tcp"))).data, "done");
      assert.equal((await fetch(`${proxy.url}/after`)).status, 200);
      assert.deepEqual(proxy.wasmMessages(), ["get=1", "", "set=0", "get=0", "tcp connection"]);
    } finally {
      await proxy.stop();
      await backend.close();
    }
  });
});

/** An HTTP backend answering 200 `ok`. */
async function startHttpBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const { createServer: createHttpServer } = await import("node:http");
  const server = createHttpServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as import("node:net").AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
