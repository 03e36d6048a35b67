import { before, test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../src/testing";
import { encodePairs, HeaderMap } from "../../src/host";
import { toBytes } from "../../src/host/bytes";
import { httpToGrpcStatus, isGrpcRequestHeaders, localReplyResponse, percentEncodeGrpcMessage } from "../../src/host/drivers/http-stream";
import { initWat, watToWasm } from "../helpers/wat";

before(async () => {
  await initWat();
});

/** WAT data-string escape of arbitrary bytes. */
function watBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => "\\" + b.toString(16).padStart(2, "0")).join("");
}

interface ReplySpec {
  readonly status: number;
  readonly body: string | Uint8Array;
  readonly headers: [string, string][];
  /** Passed as is: -1 means "no gRPC status" as the SDKs send it. */
  readonly grpcStatus: number;
  readonly details?: string;
}

/** A module whose `proxy_on_request_headers` sends exactly this local reply. */
function replyingModule(reply: ReplySpec): Uint8Array {
  const body = toBytes(reply.body);
  const details = toBytes(reply.details ?? "");
  const pairs = encodePairs(reply.headers.map(([k, v]) => [toBytes(k), toBytes(v)]));
  return watToWasm(`(module
    (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 1024) "${watBytes(details)}")
    (data (i32.const 2048) "${watBytes(body)}")
    (data (i32.const 4096) "${watBytes(pairs)}")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 8192))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $reply (i32.const ${reply.status}) (i32.const 1024) (i32.const ${details.length})
        (i32.const 2048) (i32.const ${body.length}) (i32.const 4096) (i32.const ${pairs.length}) (i32.const ${reply.grpcStatus})))
      (i32.const 0)))`);
}

const GRPC_REQUEST: [string, string][] = [
  [":method", "POST"],
  [":path", "/hello.HelloService/SayHello"],
  [":authority", "localhost"],
  ["content-type", "application/grpc"],
  ["te", "trailers"],
];

function send(reply: ReplySpec, request: [string, string][] = GRPC_REQUEST) {
  const host = createTestHost({ wasm: replyingModule(reply) });
  const stream = host.http();
  const status = stream.requestHeaders(request, { endOfStream: true });
  return { host, stream, status };
}

test("gRPC local reply: trailers-only 200 with the given grpc-status, the body as grpc-message, the plugin's headers", () => {
  const { stream, status } = send({ status: 403, body: "Aborted by Proxy-Wasm!", headers: [["powered-by", "proxy-wasm"]], grpcStatus: 10 });
  assert.equal(status, "StopAllIterationAndWatermark");
  assert.deepEqual(stream.downstream.headers, [
    [":status", "200"],
    ["powered-by", "proxy-wasm"],
    ["content-type", "application/grpc"],
    ["grpc-status", "10"],
    ["grpc-message", "Aborted by Proxy-Wasm!"],
  ]);
  assert.equal(stream.downstream.ended, true, "headers carry end_of_stream: no body, no trailers");
  assert.equal(stream.downstream.body, "");
  assert.equal(stream.downstream.trailers, null);
  assert.equal(stream.upstream.headers, null);
  // What the plugin asked for is kept as it asked.
  assert.deepEqual(stream.localResponse, { status: 403, details: "", body: "Aborted by Proxy-Wasm!", headers: [["powered-by", "proxy-wasm"]], grpcStatus: 10 });
});

test("gRPC local reply without a gRPC status maps the HTTP status as Envoy's httpToGrpcStatus; no body, no grpc-message", () => {
  const cases: [number, string][] = [
    [400, "13"], [401, "16"], [403, "7"], [404, "12"], [429, "14"], [502, "14"], [503, "14"], [504, "14"], [500, "2"], [200, "2"], [418, "2"],
  ];
  for (const [http, grpc] of cases) {
    for (const outOfRange of [-1, 17]) {
      const { stream } = send({ status: http, body: "", headers: [], grpcStatus: outOfRange });
      assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", grpc]], `HTTP ${http}, grpc_status ${outOfRange}`);
      assert.equal(stream.localResponse?.grpcStatus, undefined);
    }
  }
});

test("gRPC local reply: grpc_status 0 and 16 are used as given", () => {
  assert.equal(send({ status: 503, body: "", headers: [], grpcStatus: 0 }).stream.downstream.header("grpc-status"), "0");
  assert.equal(send({ status: 200, body: "", headers: [], grpcStatus: 16 }).stream.downstream.header("grpc-status"), "16");
});

test("gRPC local reply: grpc-message is percent-encoded as Envoy does (controls, '%', '~' and up, non-ASCII bytes)", () => {
  const { stream } = send({ status: 400, body: "100% sure\n~ é\x7f ok", headers: [], grpcStatus: 3 });
  assert.equal(stream.downstream.header("grpc-message"), "100%25 sure%0A%7E %C3%A9%7F ok");
  const raw = send({ status: 400, body: new Uint8Array([0x00, 0x41, 0xff, 0x7d, 0x20]), headers: [], grpcStatus: 3 });
  assert.equal(raw.stream.downstream.header("grpc-message"), "%00A%FF} ");
});

test("gRPC local reply: a grpc-status the plugin set itself wins; its content-type and content-length do not survive", () => {
  const { stream } = send({
    status: 403,
    body: "denied",
    headers: [["content-type", "text/html"], ["grpc-status", "3"], ["content-length", "6"], ["x-b", "2"]],
    grpcStatus: 10,
  });
  assert.deepEqual(stream.downstream.headers, [
    [":status", "200"],
    ["content-type", "application/grpc"],
    ["grpc-status", "3"],
    ["x-b", "2"],
    ["grpc-message", "denied"],
  ]);
});

test("gRPC detection is Envoy's: application/grpc+proto is gRPC, application/grpc-web and text/grpc are not", () => {
  const reply: ReplySpec = { status: 403, body: "nope", headers: [], grpcStatus: 7 };
  const withType = (type: string): [string, string][] => GRPC_REQUEST.map(([k, v]) => [k, k === "content-type" ? type : v]);
  const proto = send(reply, withType("application/grpc+proto"));
  assert.deepEqual(proto.stream.downstream.headers, [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "7"], ["grpc-message", "nope"]]);
  for (const type of ["application/grpc-web", "application/grpc-web+proto", "text/grpc", "application/grpcx"]) {
    const plain = send(reply, withType(type));
    assert.deepEqual(plain.stream.downstream.headers, [[":status", "403"], ["content-length", "4"], ["content-type", "text/plain"]], type);
    assert.equal(plain.stream.downstream.body, "nope", type);
  }
});

test("non-gRPC local reply: the gRPC status is not sent; an empty body drops the plugin's content-type and content-length", () => {
  const plain: [string, string][] = [[":method", "GET"], [":path", "/"], [":authority", "a"]];
  const { stream } = send({ status: 401, body: "", headers: [["content-type", "text/html"], ["content-length", "9"], ["x-a", "1"]], grpcStatus: 16 }, plain);
  assert.deepEqual(stream.downstream.headers, [[":status", "401"], ["x-a", "1"]]);
  assert.equal(stream.downstream.ended, true);
  assert.equal(stream.localResponse?.grpcStatus, 16);
});

test("non-gRPC local reply to HEAD: content-length of the body, but no body", () => {
  const head: [string, string][] = [[":method", "HEAD"], [":path", "/"], [":authority", "a"]];
  const { stream } = send({ status: 403, body: "forbidden", headers: [], grpcStatus: -1 }, head);
  assert.deepEqual(stream.downstream.headers, [[":status", "403"], ["content-length", "9"], ["content-type", "text/plain"]]);
  assert.equal(stream.downstream.ended, true);
  assert.equal(stream.downstream.body, "");
});

test("gRPC local reply to HEAD: no grpc-message", () => {
  const head = GRPC_REQUEST.map(([k, v]): [string, string] => [k, k === ":method" ? "HEAD" : v]);
  const { stream } = send({ status: 403, body: "denied", headers: [], grpcStatus: 7 }, head);
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "7"]]);
});

test("the helpers on their own: isGrpcRequestHeaders needs a :path; httpToGrpcStatus; percent encoding; localReplyResponse", () => {
  assert.equal(isGrpcRequestHeaders(HeaderMap.from({ "content-type": "application/grpc" })), false, "no :path");
  assert.equal(isGrpcRequestHeaders(HeaderMap.from({ ":path": "/s/m", "content-type": "application/grpc" })), true);
  assert.equal(isGrpcRequestHeaders(HeaderMap.from({ ":path": "/s/m", "content-type": "Application/grpc" })), false, "the comparison is case-sensitive");
  assert.equal(httpToGrpcStatus(404), 12);
  assert.equal(httpToGrpcStatus(0), 2);
  assert.equal(percentEncodeGrpcMessage(toBytes("")), "");
  assert.equal(percentEncodeGrpcMessage(toBytes("plain text: a-z !#$&'()*+,/:;=?@[]^_`{|}")), "plain text: a-z !#$&'()*+,/:;=?@[]^_`{|}");
  const { headers, body } = localReplyResponse(
    { status: 503, details: "", body: toBytes("x"), headers: HeaderMap.from([["a", "1"]]), grpcStatus: undefined },
    { grpc: true, head: false },
  );
  assert.deepEqual(headers.toArray(), [[":status", "200"], ["a", "1"], ["content-type", "application/grpc"], ["grpc-status", "14"], ["grpc-message", "x"]]);
  assert.equal(body.length, 0);
});

test("gRPC fail-closed: a trap on a gRPC request answers trailers-only with grpc-status 14 (from 503), no grpc-message", () => {
  const trap = watToWasm(`(module
    (memory (export "memory") 1)
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) unreachable))`);
  const host = createTestHost({ wasm: trap });
  const stream = host.http();
  assert.equal(stream.requestHeaders(GRPC_REQUEST, { endOfStream: true }), "StopAllIterationAndWatermark");
  assert.deepEqual(stream.downstream.headers, [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "14"]]);
  assert.deepEqual(stream.localResponse, { status: 503, details: "wasm_fail_stream", body: "", headers: [], grpcStatus: 14 });
  const web = host.http();
  web.requestHeaders(GRPC_REQUEST.map(([k, v]): [string, string] => [k, k === "content-type" ? "application/grpc-web" : v]), { endOfStream: true });
  assert.deepEqual(web.downstream.headers, [[":status", "503"]]);
  assert.equal(web.localResponse?.grpcStatus, undefined);
});
