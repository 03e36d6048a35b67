import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";
import { Result } from "proxy-wasm-as";

const wasm = new URL("../build/shared_queue.wasm", import.meta.url);

const QUEUES = ["http_request_headers", "http_response_headers", "tcp_data_hashes"] as const;

/** The receiver VM: one plugin per queue, as in the README's Envoy config. */
function startReceiver(shareProcessWith?: TestHost): TestHost {
  const receiver = createTestHost({
    wasm, vmId: "receiver", rootId: "receiver", pluginName: QUEUES[0], pluginConfig: QUEUES[0], shareProcessWith,
  });
  // Envoy: several filter configs with the same vm_id and code share one VM.
  for (const queue of QUEUES.slice(1)) receiver.addPlugin({ name: queue, rootId: "receiver", pluginConfig: queue });
  return receiver;
}

/** The sender VM: an HTTP plugin (root 1) and a TCP plugin (root 2). */
function startSender(receiver: TestHost) {
  const sender = createTestHost({ wasm, vmId: "sender", rootId: "sender", pluginName: "http", pluginConfig: "http", shareProcessWith: receiver });
  const tcp = sender.addPlugin({ name: "tcp", rootId: "sender", pluginConfig: "tcp" });
  return { sender, tcp };
}

function messages(host: TestHost, vmId: string, level = "info"): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.vmId === vmId && r.level === level).map((r) => r.message);
}

/** FNV-1a 128 as hex, computed independently of the filter. */
function fnv1a128(data: string): string {
  let hash = 0x6c62272e07bb014262b821756295c58dn;
  const prime = 0x0000000001000000000000000000013bn;
  for (const byte of Buffer.from(data)) hash = ((hash ^ BigInt(byte)) * prime) & ((1n << 128n) - 1n);
  return hash.toString(16).padStart(32, "0");
}

test("the receiver registers one queue per plugin and logs its id and root context", () => {
  const receiver = startReceiver();
  assert.deepEqual(messages(receiver, "receiver"), [
    'queue "http_request_headers" registered as queueID=1 by contextID=1',
    'queue "http_response_headers" registered as queueID=2 by contextID=2',
    'queue "tcp_data_hashes" registered as queueID=3 by contextID=3',
  ]);
});

test("the sender resolves the receiver's queues and says what each plugin is configured for", () => {
  const receiver = startReceiver();
  startSender(receiver);
  assert.deepEqual(messages(receiver, "sender"), ["contextID=1 is configured for http", "contextID=2 is configured for tcp"]);
  assert.deepEqual(messages(receiver, "sender", "critical"), []);
});

test("HTTP: request headers go to http_request_headers, response headers to http_response_headers", () => {
  const receiver = startReceiver();
  const { sender } = startSender(receiver);
  receiver.logs.clear();

  const result = sender.flow({
    request: { headers: [[":method", "GET"], [":path", "/"], [":authority", "localhost:18000"]] },
    response: { headers: [[":status", "200"], ["server", "envoy"]] },
  });
  // The sender only observes: the stream passes unchanged.
  assert.equal(result.downstream.status, 200);
  assert.deepEqual(result.upstream.headers, [[":method", "GET"], [":path", "/"], [":authority", "localhost:18000"]]);
  const streamId = result.stream.contextId;
  assert.equal(streamId, 3);

  assert.deepEqual(messages(receiver, "sender"), [
    'enqueued data: {"key": ":method","value": "GET"}',
    'enqueued data: {"key": ":path","value": "/"}',
    'enqueued data: {"key": ":authority","value": "localhost:18000"}',
    '(contextID=3) enqueued data: {"key": ":status","value": "200"}',
    '(contextID=3) enqueued data: {"key": "server","value": "envoy"}',
  ]);
  // Queue notifications are posted: nothing is dequeued until the receiver's thread runs them.
  assert.deepEqual(messages(receiver, "receiver"), []);
  assert.equal(receiver.flushQueues(), 5);
  assert.deepEqual(messages(receiver, "receiver"), [
    '(contextID=1) dequeued data from http_request_headers(queueID=1): {"key": ":method","value": "GET"}',
    '(contextID=1) dequeued data from http_request_headers(queueID=1): {"key": ":path","value": "/"}',
    '(contextID=1) dequeued data from http_request_headers(queueID=1): {"key": ":authority","value": "localhost:18000"}',
    '(contextID=2) dequeued data from http_response_headers(queueID=2): {"key": ":status","value": "200"}',
    '(contextID=2) dequeued data from http_response_headers(queueID=2): {"key": "server","value": "envoy"}',
  ]);
});

test("TCP: each upstream chunk's FNV-128a hash goes to tcp_data_hashes", () => {
  const receiver = startReceiver();
  const { tcp } = startSender(receiver);
  receiver.logs.clear();

  const connection = tcp.tcp();
  assert.equal(connection.newConnection(), "Continue");
  assert.equal(connection.downstreamData("GET / HTTP/1.1\r\n\r\n"), "Continue");
  assert.equal(connection.upstreamData("HTTP/1.1 200 OK\r\n"), "Continue");
  assert.equal(connection.upstreamData("a"), "Continue");
  assert.equal(connection.upstreamData("", { endOfStream: true }), "Continue");
  assert.equal(connection.downstream, "HTTP/1.1 200 OK\r\na");
  const id = connection.contextId;

  const first = fnv1a128("HTTP/1.1 200 OK\r\n");
  // The published FNV-1a 128 test vector for "a".
  const second = "d228cb696f1a8caf78912b704e4a8964";
  assert.equal(fnv1a128("a"), second);
  assert.deepEqual(messages(receiver, "sender"), [`(contextID=${id}) enqueued data: ${first}`, `(contextID=${id}) enqueued data: ${second}`]);
  assert.equal(receiver.flushQueues(), 2);
  assert.deepEqual(messages(receiver, "receiver"), [
    `(contextID=3) dequeued data from tcp_data_hashes(queueID=3): ${first}`,
    `(contextID=3) dequeued data from tcp_data_hashes(queueID=3): ${second}`,
  ]);
});

test("a notification for an item someone else already took is ignored (Empty)", () => {
  const receiver = startReceiver();
  const { sender } = startSender(receiver);
  receiver.logs.clear();
  // One request header and one response header (the default `:status: 200`).
  sender.flow({ request: { headers: [[":path", "/"]] } });
  // Another consumer drains both queues before the notifications run.
  for (const queueId of [1, 2]) {
    assert.ok(receiver.process.queues.dequeue(queueId) instanceof Uint8Array);
    assert.equal(receiver.process.queues.dequeue(queueId), Result.Empty);
  }
  assert.equal(receiver.flushQueues(), 2);
  assert.deepEqual(messages(receiver, "receiver"), []);
  assert.deepEqual(messages(receiver, "receiver", "critical"), []);
});

test("sender without a receiver VM: critical logs for the unresolved queues and for each failed enqueue", () => {
  const sender = createTestHost({ wasm, vmId: "sender", rootId: "sender", pluginConfig: "http" });
  assert.deepEqual(messages(sender, "sender", "critical"), QUEUES.map((q) => `error resolving queue ${q}: WasmResult 1`));
  sender.logs.clear();
  const result = sender.flow({ request: { headers: [[":path", "/"]] } });
  assert.equal(result.downstream.status, 200);
  assert.deepEqual(messages(sender, "sender", "critical"), ["error queueing: WasmResult 1", "error queueing: WasmResult 1"]);
  assert.deepEqual(messages(sender, "sender"), []);
});

for (const config of ["", "udp", "HTTP", '{"mode": "udp"}', '{"mode": 1}', "{"]) {
  test(`sender configured ${JSON.stringify(config)}: critical log and the plugin does not start`, () => {
    const receiver = startReceiver();
    assert.throws(
      () => createTestHost({ wasm, vmId: "sender", rootId: "sender", pluginConfig: config, shareProcessWith: receiver }),
      (error: unknown) => error instanceof Error && error.name === "PluginStartError",
    );
    assert.deepEqual(messages(receiver, "sender", "critical"), ['sender: the plugin configuration must be http or tcp (or {"mode": "http" | "tcp"})']);
  });
}

test("receiver without a queue name: critical log and the plugin does not start", () => {
  const witness = createTestHost({ wasm, vmId: "other", rootId: "receiver", pluginConfig: "q" });
  assert.throws(() => createTestHost({ wasm, vmId: "receiver", rootId: "receiver", shareProcessWith: witness }));
  assert.deepEqual(messages(witness, "receiver", "critical"), ['receiver: the plugin configuration must be the name of the queue to receive from (or {"queue": "<name>"})']);
});

test("JSON configurations (what Istio's pluginConfig produces) work for both roles", () => {
  const receiver = createTestHost({ wasm, vmId: "receiver", rootId: "receiver", pluginConfig: { queue: "http_request_headers" } });
  const sender = createTestHost({ wasm, vmId: "sender", rootId: "sender", pluginConfig: { mode: "http" }, shareProcessWith: receiver });
  assert.deepEqual(messages(receiver, "receiver"), ['queue "http_request_headers" registered as queueID=1 by contextID=1']);
  assert.deepEqual(messages(receiver, "sender"), ["contextID=1 is configured for http"]);
  sender.flow({ request: { headers: [[":method", "GET"]] } });
  receiver.flushQueues();
  assert.ok(messages(receiver, "receiver").includes('(contextID=1) dequeued data from http_request_headers(queueID=1): {"key": ":method","value": "GET"}'));
});
