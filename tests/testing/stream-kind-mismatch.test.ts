// A plugin deployed on the other kind of traffic: an HTTP-only plugin as a network filter, or a
// TCP-only one as an HTTP filter. Envoy creates a stream context and calls the callbacks of the
// kind the filter is configured as (source/extensions/common/wasm/context.cc); cpp-host continues
// a stream past a callback the module does not export (proxy-wasm-cpp-host src/context.cc,
// ContextBase::onNetworkNewConnection and the others), and the C++ SDK's one Context class answers
// both kinds with Continue (proxy-wasm-cpp-sdk proxy_wasm_api.h); the Rust and Go SDKs panic
// ("invalid context_id", proxy-wasm-rust-sdk src/dispatcher.rs; "invalid context",
// proxy-wasm-go-sdk proxywasm/internal/abi_callback_l4.go), which fails the VM and every stream
// of it. This SDK aborted the same way (`bad context id or kind`). Now such a stream passes
// through untouched and the SDK warns once per plugin, naming it, as for root-only plugins.
//
// The shared_queue example's sender exports both kinds of callbacks: configured `http` it makes an
// HTTP context for every stream, configured `tcp` a TCP context for every stream its HTTP factory
// declines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "../../src/testing";

const example = (name: string) => new URL(`../../examples/${name}/build/${name}.wasm`, import.meta.url);
const wasm = example("shared_queue");
const QUEUES = ["http_request_headers", "http_response_headers", "tcp_data_hashes"];

const HTTP_ON_TCP = (plugin: string) => `plugin "${plugin}" made an HTTP context for a TCP connection; such connections pass through untouched`;
const TCP_ON_HTTP = (plugin: string) => `plugin "${plugin}" made a TCP context for an HTTP stream; such streams pass through untouched`;

/** The receiver VM with one plugin per queue, so that the senders resolve all three. */
function startReceiver(): TestHost {
  const receiver = createTestHost({ wasm, vmId: "receiver", rootId: "receiver", pluginName: QUEUES[0], pluginConfig: QUEUES[0] });
  for (const queue of QUEUES.slice(1)) receiver.addPlugin({ name: queue, rootId: "receiver", pluginConfig: queue });
  return receiver;
}

function startSender(receiver: TestHost, mode: "http" | "tcp", pluginName?: string): TestHost {
  return createTestHost({ strict: true, wasm, vmId: "sender", rootId: "sender", pluginName, pluginConfig: mode, shareProcessWith: receiver });
}

function warnings(host: TestHost): { pluginName: string; message: string }[] {
  return host.logs.records.filter((r) => r.level === "warn").map(({ pluginName, message }) => ({ pluginName, message }));
}

/** The items the receiver dequeued, after running the pending queue notifications. */
function received(receiver: TestHost): string[] {
  receiver.flushQueues();
  return receiver.logs.records.filter((r) => r.vmId === "receiver" && r.level === "info").map((r) => r.message);
}

/** Plays one TCP connection with data both ways and checks it passed unchanged and stayed open. */
function assertConnectionPasses(host: TestHost, n: number): void {
  const connection = host.tcp();
  assert.equal(connection.newConnection(), "Continue");
  assert.equal(connection.downstreamData(`ping ${n}`), "Continue");
  assert.equal(connection.upstreamData(`pong ${n}`), "Continue");
  assert.equal(connection.downstreamData(" bye", { endOfStream: true }), "Continue");
  assert.equal(connection.upstreamData("", { endOfStream: true }), "Continue");
  connection.close();
  assert.equal(connection.upstream, `ping ${n} bye`);
  assert.equal(connection.downstream, `pong ${n}`);
  assert.equal(connection.closedByHost, false);
}

test("an HTTP-only plugin on TCP connections: they pass through untouched, one warning naming the plugin, and its HTTP streams are still filtered", () => {
  const receiver = startReceiver();
  const sender = startSender(receiver, "http", "headers-to-queue");
  receiver.logs.clear();
  for (let n = 1; n <= 3; n++) assertConnectionPasses(sender, n);
  assert.equal(sender.failure, null);
  assert.deepEqual(warnings(sender), [{ pluginName: "headers-to-queue", message: HTTP_ON_TCP("headers-to-queue") }]);
  assert.equal(sender.vm.contexts.size, 1, "the connections' contexts were deleted");
  // Nothing of the connections reached a queue; the next HTTP stream is filtered as usual.
  assert.deepEqual(received(receiver), []);
  sender.flow({ request: { headers: [[":path", "/after"]] }, response: { headers: [[":status", "204"]] } });
  assert.deepEqual(received(receiver), [
    '(contextID=1) dequeued data from http_request_headers(queueID=1): {"key": ":path","value": "/after"}',
    '(contextID=2) dequeued data from http_response_headers(queueID=2): {"key": ":status","value": "204"}',
  ]);
  assert.equal(warnings(sender).length, 1, "still one warning");
});

test("a TCP-only plugin on HTTP streams: they pass through untouched, one warning naming the plugin, and its TCP connections are still filtered", () => {
  const receiver = startReceiver();
  const sender = startSender(receiver, "tcp", "hashes-to-queue");
  receiver.logs.clear();
  for (let n = 1; n <= 3; n++) {
    const input = {
      request: { headers: [[":method", "POST"], [":path", `/${n}`], [":authority", "x"]] as [string, string][], body: `in ${n}`, trailers: [["x-t", "1"]] as [string, string][] },
      response: { headers: [[":status", "201"], ["x-n", String(n)]] as [string, string][], body: `out ${n}`, trailers: [["x-u", "2"]] as [string, string][] },
    };
    const result = sender.flow(input);
    assert.deepEqual(result.upstream.headers, input.request.headers);
    assert.equal(result.upstream.body, input.request.body);
    assert.deepEqual(result.upstream.trailers, input.request.trailers);
    assert.deepEqual(result.downstream.headers, input.response.headers);
    assert.equal(result.downstream.body, input.response.body);
    assert.deepEqual(result.downstream.trailers, input.response.trailers);
    assert.equal(result.localResponse, null);
  }
  assert.equal(sender.failure, null);
  assert.deepEqual(warnings(sender), [{ pluginName: "hashes-to-queue", message: TCP_ON_HTTP("hashes-to-queue") }]);
  assert.equal(sender.vm.contexts.size, 1, "the streams' contexts were deleted");
  assert.deepEqual(received(receiver), []);
  // The plugin still hashes TCP upstream data ("a": the published FNV-1a 128 test vector).
  const connection = sender.tcp();
  connection.newConnection();
  assert.equal(connection.upstreamData("a"), "Continue");
  connection.close();
  assert.deepEqual(received(receiver), ["(contextID=3) dequeued data from tcp_data_hashes(queueID=3): d228cb696f1a8caf78912b704e4a8964"]);
});

test("streams of the other kind: one warning per plugin of a VM, each naming its plugin (the root id for an unnamed one), across interleaved streams", () => {
  const receiver = startReceiver();
  const sender = startSender(receiver, "http", "first");
  const second = sender.addPlugin({ name: "second", rootId: "sender", pluginConfig: "http" });
  const unnamed = sender.addPlugin({ rootId: "sender", pluginConfig: "tcp" });
  sender.logs.clear();
  const a = sender.tcp();
  const b = second.tcp();
  assert.equal(a.newConnection(), "Continue");
  assert.equal(b.newConnection(), "Continue");
  const c = unnamed.http();
  assert.equal(c.requestHeaders({ ":method": "GET", ":path": "/", ":authority": "x" }, { endOfStream: true }), "Continue");
  // The module exports proxy_on_upstream_data but not proxy_on_downstream_data (cpp-host then
  // continues without calling in): a connection meets the SDK at its first upstream data.
  assert.equal(b.downstreamData("from b"), "Continue");
  assert.equal(b.upstreamData("to b"), "Continue");
  assert.equal(a.upstreamData("to a"), "Continue");
  assert.equal(c.responseHeaders({ ":status": "200" }, { endOfStream: true }), "Continue");
  c.complete();
  a.close();
  b.close();
  assertConnectionPasses(sender, 1);
  assert.equal(a.downstream, "to a");
  assert.equal(b.upstream, "from b");
  assert.equal(b.downstream, "to b");
  assert.equal(c.downstream.status, 200);
  assert.deepEqual(warnings(sender), [
    { pluginName: "", message: TCP_ON_HTTP("sender") },
    { pluginName: "second", message: HTTP_ON_TCP("second") },
    { pluginName: "first", message: HTTP_ON_TCP("first") },
  ]);
  assert.equal(sender.failure, null);
  assert.equal(sender.vm.contexts.size, 3, "the three root contexts are left");
});

test("modules without the other kind's callbacks (add_header on TCP, network on HTTP) pass that traffic through with no warning, as cpp-host skips callbacks a module does not export", () => {
  const addHeader = createTestHost({ strict: true, wasm: example("add_header"), pluginName: "add" });
  addHeader.logs.clear();
  assertConnectionPasses(addHeader, 1);
  assert.deepEqual(warnings(addHeader), []);
  assert.equal(addHeader.failure, null);

  const network = createTestHost({ strict: true, wasm: example("network"), pluginName: "net" });
  network.logs.clear();
  const result = network.flow({ request: { headers: [[":path", "/"]], body: "in" }, response: { headers: [[":status", "200"]], body: "out" } });
  assert.equal(result.upstream.body, "in");
  assert.equal(result.downstream.body, "out");
  assert.deepEqual(warnings(network), []);
  assert.equal(network.failure, null);
});
