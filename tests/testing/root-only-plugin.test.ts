// Issue #12, fault 9: a root-only plugin (its root makes neither an HTTP nor a TCP context) deployed
// as a filter, which is what an Istio WasmPlugin always is. Envoy creates a stream context for every
// stream of a filter (source/extensions/common/wasm/context.cc: Context::onCreate from the filter's
// first callback); the Rust SDK panics there ("missing ContextType on root_context",
// proxy-wasm-rust-sdk src/dispatcher.rs) and the Go SDK panics too ("invalid context id on
// proxy_on_context_create", proxy-wasm-go-sdk internal/abi_callback_lifecycle.go), and a trap
// fails the VM, after which Envoy fails every stream of it (proxy-wasm-cpp-host src/wasm.cc,
// failed_ state). Ours: the SDK lets such streams pass through untouched and logs one warning per
// plugin naming it; the VM stays healthy and keeps serving.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type FlowInput, type TestHost } from "../../src/testing";

const example = (name: string) => new URL(`../../examples/${name}/build/${name}.wasm`, import.meta.url);

const warning = (plugin: string) => `plugin "${plugin}" makes no stream context; its streams pass through untouched`;

/** A request and a response with headers, body and trailers on both sides. */
function fullFlow(n: number): FlowInput {
  return {
    request: {
      headers: [[":method", "POST"], [":path", `/upload/${n}`], [":authority", "example.com"], ["x-request", `r${n}`]],
      body: `request body ${n}`,
      trailers: [["x-request-trailer", `rt${n}`]],
    },
    response: {
      headers: [[":status", "201"], ["x-response", `s${n}`]],
      body: `response body ${n}`,
      trailers: [["x-response-trailer", `st${n}`]],
    },
  };
}

/** Plays `count` whole flows and checks each one reached both sides unchanged. */
function assertFlowsPassUntouched(flow: (input: FlowInput) => ReturnType<TestHost["flow"]>, count: number): void {
  for (let n = 1; n <= count; n++) {
    const input = fullFlow(n);
    const result = flow(input);
    assert.deepEqual(result.upstream.headers, input.request.headers, `request ${n} headers`);
    assert.equal(result.upstream.body, input.request.body, `request ${n} body`);
    assert.deepEqual(result.upstream.trailers, input.request.trailers, `request ${n} trailers`);
    assert.deepEqual(result.downstream.headers, input.response!.headers, `response ${n} headers`);
    assert.equal(result.downstream.body, input.response!.body, `response ${n} body`);
    assert.deepEqual(result.downstream.trailers, input.response!.trailers, `response ${n} trailers`);
    assert.equal(result.localResponse, null);
    assert.equal(result.stream.resetDetails, null);
  }
}

function warnings(host: TestHost): { pluginName: string; message: string }[] {
  return host.logs.records.filter((r) => r.level === "warn").map(({ pluginName, message }) => ({ pluginName, message }));
}

const ROOT_ONLY = [
  { example: "dispatch_call_on_tick", start: () => createTestHost({ strict: true, wasm: example("dispatch_call_on_tick"), pluginName: "ticker", clusters: ["web_service"] }), name: "ticker" },
  { example: "foreign_call_on_tick", start: () => createTestHost({ strict: true, wasm: example("foreign_call_on_tick"), pluginName: "foreign" }), name: "foreign" },
  {
    example: "shared_queue (receiver)",
    start: () => createTestHost({ strict: true, wasm: example("shared_queue"), vmId: "receiver", rootId: "receiver", pluginName: "http_request_headers", pluginConfig: "http_request_headers" }),
    name: "http_request_headers",
  },
];

for (const plugin of ROOT_ONLY) {
  test(`root-only ${plugin.example}: HTTP streams pass through untouched, one warning for the plugin, the VM keeps serving`, () => {
    const host = plugin.start();
    host.logs.clear();
    assertFlowsPassUntouched((input) => host.flow(input), 3);
    assert.equal(host.failure, null);
    assert.deepEqual(warnings(host), [{ pluginName: plugin.name, message: warning(plugin.name) }]);
    assert.equal(host.vm.contexts.size, 1, "only the root context is left");
    // The next request after several streams still works.
    assertFlowsPassUntouched((input) => host.flow(input), 1);
    assert.equal(warnings(host).length, 1, "still one warning");
  });

  test(`root-only ${plugin.example}: TCP connections pass through untouched`, () => {
    const host = plugin.start();
    host.logs.clear();
    for (let n = 1; n <= 2; n++) {
      const connection = host.tcp();
      assert.equal(connection.newConnection(), "Continue");
      assert.equal(connection.downstreamData(`ping ${n}`), "Continue");
      assert.equal(connection.upstreamData(`pong ${n}`), "Continue");
      assert.equal(connection.downstreamData(" bye", { endOfStream: true }), "Continue");
      connection.close();
      assert.equal(connection.upstream, `ping ${n} bye`);
      assert.equal(connection.downstream, `pong ${n}`);
      assert.equal(connection.closedByHost, false);
    }
    assert.equal(host.failure, null);
    assert.deepEqual(warnings(host), [{ pluginName: plugin.name, message: warning(plugin.name) }]);
    assert.equal(host.vm.contexts.size, 1);
  });
}

test("root-only plugins: one warning per plugin of a VM, each naming its plugin, across interleaved streams", () => {
  const host = createTestHost({ strict: true, wasm: example("dispatch_call_on_tick"), pluginName: "first", clusters: ["web_service"] });
  const second = host.addPlugin({ name: "second" });
  host.logs.clear();
  const a = host.http();
  const b = second.http();
  a.requestHeaders({ ":method": "GET", ":path": "/a", ":authority": "x" }, { endOfStream: true });
  b.requestHeaders({ ":method": "GET", ":path": "/b", ":authority": "x" }, { endOfStream: true });
  assertFlowsPassUntouched((input) => second.flow(input), 2);
  assertFlowsPassUntouched((input) => host.flow(input), 2);
  a.responseHeaders({ ":status": "200" }, { endOfStream: true });
  b.responseHeaders({ ":status": "204" }, { endOfStream: true });
  a.complete();
  b.complete();
  assert.equal(a.downstream.status, 200);
  assert.equal(b.downstream.status, 204);
  assert.deepEqual(warnings(host), [
    { pluginName: "first", message: warning("first") },
    { pluginName: "second", message: warning("second") },
  ]);
  assert.equal(host.failure, null);
  assert.equal(host.vm.contexts.size, 2, "the two root contexts are left");
});

test("root-only plugin without a name: the warning names it by its root id, in Envoy's wasm log line", () => {
  const host = createTestHost({ strict: true, wasm: example("foreign_call_on_tick"), rootId: "compressor" });
  host.logs.clear();
  assertFlowsPassUntouched((input) => host.flow(input), 2);
  const records = host.logs.records.filter((r) => r.level === "warn");
  assert.deepEqual(records.map((r) => r.line), ['wasm log compressor: plugin "compressor" makes no stream context; its streams pass through untouched']);
  assert.equal(host.failure, null);
});

test("root-only plugin with a very long name: the warning carries its first 419 bytes, the streams still pass", () => {
  const name = "n".repeat(600);
  const host = createTestHost({ strict: true, wasm: example("foreign_call_on_tick"), pluginName: name });
  host.logs.clear();
  assertFlowsPassUntouched((input) => host.flow(input), 1);
  assert.deepEqual(warnings(host).map((w) => w.message), [warning(name.slice(0, 419))]);
  assert.equal(host.failure, null);
});

test("root-only shared_queue (receiver): 20 streams open at once all pass through, ended in any order, and the next still passes", () => {
  // The SDK keeps the ids of passing streams in a set that starts at 8 entries and doubles.
  const host = createTestHost({ strict: true, wasm: example("shared_queue"), vmId: "receiver", rootId: "receiver", pluginName: "q", pluginConfig: "http_request_headers" });
  host.logs.clear();
  const streams = Array.from({ length: 20 }, (_, n) => {
    const stream = host.http();
    assert.equal(stream.requestHeaders({ ":method": "GET", ":path": `/s${n}`, ":authority": "x" }, { endOfStream: true }), "Continue");
    return stream;
  });
  const order = [...streams.keys()].sort((a, b) => (a % 3) - (b % 3) || b - a);
  for (const n of order) {
    assert.equal(streams[n].responseHeaders({ ":status": "200", "x-n": String(n) }, { endOfStream: true }), "Continue");
    streams[n].complete();
    assert.equal(streams[n].downstream.header("x-n"), String(n));
    assert.deepEqual(streams[n].upstream.headers, [[":method", "GET"], [":path", `/s${n}`], [":authority", "x"]]);
  }
  assertFlowsPassUntouched((input) => host.flow(input), 2);
  assert.deepEqual(warnings(host), [{ pluginName: "q", message: warning("q") }]);
  assert.equal(host.failure, null);
  assert.equal(host.vm.contexts.size, 1);
});

test("root-only shared_queue (receiver): linear memory stays flat over 20,000 pass-through streams", () => {
  // No object per passing stream: the SDK keeps only its id, in a block that is reused.
  const host = createTestHost({ wasm: example("shared_queue"), vmId: "receiver", rootId: "receiver", pluginName: "q", pluginConfig: "http_request_headers" });
  const request = { headers: [[":method", "GET"], [":path", "/"], [":authority", "x"]] as [string, string][] };
  for (let n = 0; n < 200; n++) host.flow({ request });
  const afterWarmUp = host.vm.memoryBytes;
  for (let n = 0; n < 20_000; n++) host.flow({ request });
  assert.equal(host.vm.memoryBytes, afterWarmUp);
  assert.equal(host.failure, null);
});
