import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "proxy-wasm-as/testing";

const WASM = new URL("../build/grpc_auth_random.wasm", import.meta.url);
const GRPC_REQUEST = {
  ":method": "POST",
  ":path": "/hello.HelloService/SayHello",
  ":authority": "localhost:10000",
  "content-type": "application/grpc",
  te: "trailers",
};
const FORBIDDEN = {
  status: 200,
  details: "",
  body: "Aborted by Proxy-Wasm!",
  headers: [["powered-by", "proxy-wasm"]],
  grpcStatus: 10,
};

/** What the client receives for ABORTED: Envoy's trailers-only gRPC reply (no body, no trailers). */
const ABORTED_DOWNSTREAM = [
  [":status", "200"],
  ["powered-by", "proxy-wasm"],
  ["content-type", "application/grpc"],
  ["grpc-status", "10"],
  ["grpc-message", "Aborted by Proxy-Wasm!"],
];

function pausedRequest() {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["grpcbin"] });
  const stream = host.http();
  const status = stream.requestHeaders(GRPC_REQUEST);
  return { host, stream, status };
}

test("grpc_auth_random: a non-gRPC request gets a local 503 'Service accessible only to gRPC clients.'", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["grpcbin"] });
  for (const contentType of [undefined, "application/json", "text/grpc"]) {
    const stream = host.http();
    const headers: Record<string, string> = { ":method": "GET", ":path": "/", ":authority": "a" };
    if (contentType !== undefined) headers["content-type"] = contentType;
    assert.equal(stream.requestHeaders(headers, { endOfStream: true }), "StopAllIterationAndWatermark");
    assert.deepEqual(stream.localResponse, {
      status: 503,
      details: "",
      body: "Service accessible only to gRPC clients.\n",
      headers: [["powered-by", "proxy-wasm"]],
      grpcStatus: undefined,
    });
    assert.equal(stream.upstream.headers, null);
    assert.deepEqual(stream.downstream.headers, [[":status", "503"], ["powered-by", "proxy-wasm"], ["content-length", "41"], ["content-type", "text/plain"]]);
    assert.equal(stream.downstream.body, "Service accessible only to gRPC clients.\n");
    assert.equal(stream.downstream.ended, true);
  }
  assert.equal(host.callouts.all.length, 0);
});

test("grpc_auth_random: reflection requests pass without asking grpcbin", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["grpcbin"] });
  const stream = host.http();
  const status = stream.requestHeaders({ ...GRPC_REQUEST, ":path": "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo" });
  assert.equal(status, "Continue");
  assert.equal(host.callouts.all.length, 0);
  assert.notEqual(stream.upstream.headers, null);
});

test("grpc_auth_random: other gRPC requests call grpcbin.GRPCBin/RandomError (1 s, no metadata) and pause", () => {
  const { host, stream, status } = pausedRequest();
  assert.equal(status, "StopAllIterationAndWatermark");
  assert.equal(stream.upstream.headers, null);
  const calls = host.callouts.pendingGrpc;
  assert.equal(calls.length, 1);
  const [call] = calls;
  assert.equal(call.kind, "grpc-call");
  assert.equal(call.cluster, "grpcbin");
  assert.equal(call.serviceName, "grpcbin.GRPCBin");
  assert.equal(call.methodName, "RandomError");
  assert.deepEqual(call.initialMetadata.toArray(), []);
  assert.equal(call.timeoutMs, 1000);
  assert.deepEqual(call.messages.map((m) => m.length), [0], "an empty request message");
});

test("grpc_auth_random: a successful answer (status OK = 0, even) grants access", () => {
  const { host, stream } = pausedRequest();
  host.callouts.pendingGrpc[0].receive(new Uint8Array());
  assert.deepEqual(host.logs.at("info"), ["Access granted."]);
  assert.equal(stream.localResponse, null);
  assert.equal(stream.upstream.header(":path"), "/hello.HelloService/SayHello");
  stream.responseHeaders({ ":status": "200", "content-type": "application/grpc" });
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["content-type", "application/grpc"], ["powered-by", "proxy-wasm"]]);
});

test("grpc_auth_random: an even error status (DEADLINE_EXCEEDED = 4) grants, an odd one (NOT_FOUND = 5) forbids", () => {
  const granted = pausedRequest();
  granted.host.callouts.pendingGrpc[0].close(4, "deadline");
  assert.deepEqual(granted.host.logs.at("info"), ["Access granted."]);
  assert.equal(granted.stream.localResponse, null);
  assert.notEqual(granted.stream.upstream.headers, null);

  const forbidden = pausedRequest();
  forbidden.host.callouts.pendingGrpc[0].close(5, "not found");
  assert.deepEqual(forbidden.host.logs.at("info"), ["Access forbidden."]);
  assert.deepEqual(forbidden.stream.localResponse, FORBIDDEN);
  assert.equal(forbidden.stream.upstream.headers, null);
  assert.deepEqual(forbidden.stream.downstream.headers, ABORTED_DOWNSTREAM);
  assert.equal(forbidden.stream.downstream.ended, true, "trailers-only: the headers end the stream");
  assert.equal(forbidden.stream.downstream.body, "");
  assert.equal(forbidden.stream.downstream.trailers, null);
});

test("grpc_auth_random: application/grpc-web passes the filter's check, but Envoy answers it as plain HTTP", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["grpcbin"] });
  const stream = host.http();
  stream.requestHeaders({ ...GRPC_REQUEST, "content-type": "application/grpc-web" });
  host.callouts.pendingGrpc[0].close(7, "denied");
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["powered-by", "proxy-wasm"], ["content-length", "22"], ["content-type", "text/plain"]]);
  assert.equal(stream.downstream.body, "Aborted by Proxy-Wasm!");
});

test("grpc_auth_random: fail closed on a gRPC request is 503 as grpc-status 14 (UNAVAILABLE), trailers-only", () => {
  const host = createTestHost({ strict: true, wasm: WASM, clusters: ["grpcbin"] });
  // Any trap fails the whole VM; here one is reported as if a callback had hit `unreachable`.
  host.vm.fail("proxy_on_tick", new WebAssembly.RuntimeError("unreachable"));
  const stream = host.http();
  assert.equal(stream.requestHeaders(GRPC_REQUEST), "StopAllIterationAndWatermark");
  assert.deepEqual(stream.localResponse, { status: 503, details: "wasm_fail_stream", body: "", headers: [], grpcStatus: 14 });
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "14"]]);
  assert.equal(stream.downstream.ended, true);
  assert.equal(stream.upstream.headers, null);
  assert.equal(host.callouts.all.length, 0, "the failed VM is not called");
  // A plain HTTP request gets the bare 503.
  const plain = host.http();
  plain.requestHeaders({ ":method": "GET", ":path": "/", ":authority": "a" }, { endOfStream: true });
  assert.deepEqual(plain.downstream.headers, [[":status", "503"]]);
});

test("grpc_auth_random: without the grpcbin cluster the call is refused and the request is aborted", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const stream = host.http();
  stream.requestHeaders(GRPC_REQUEST);
  assert.deepEqual(host.logs.at("error"), ["gRPC call to grpcbin failed: 4"], "4 = ParseFailure: not a GrpcService and no such cluster");
  assert.deepEqual(stream.localResponse, FORBIDDEN);
  assert.deepEqual(stream.downstream.headers, ABORTED_DOWNSTREAM);
});
