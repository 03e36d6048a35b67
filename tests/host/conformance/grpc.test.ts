/**
 * Reference §5.9 (gRPC calls and streams), §5.10 (proxy_get_status), §4.11 (gRPC maps and buffer).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { HeaderMap, type GrpcCallout } from "../../../src/host";
import { conformanceModule, OUT, pairsBytes } from "./conformance-module";

const GRPC = conformanceModule((w) => {
  const metadata = w.str(pairsBytes([["x-md", "1"]]));
  const call = (cluster: string) =>
    `(call $proxy_grpc_call ${w.str(cluster)} ${w.str("pkg.Svc")} ${w.str("Unary")} ${metadata} ${w.str("req")} (i32.const 1000) (i32.const ${OUT.extra}))`;
  const stream = (cluster: string) => `(call $proxy_grpc_stream ${w.str(cluster)} ${w.str("pkg.Svc")} ${w.str("Stream")} (i32.const 0) (i32.const 0) (i32.const ${OUT.extra}))`;
  const status = `(drop (call $proxy_get_status (i32.const ${OUT.extra}) (i32.const ${OUT.ptr}) (i32.const ${OUT.size})))`;
  return `
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (i32.store (i32.const ${OUT.extra}) (i32.const 77))
    ${w.log("call_unknown_cluster", call("nope"))}
    ${w.logU32("token", OUT.extra)}
    ${w.log("stream_unknown_cluster", stream("nope"))}
    ${w.log("call", call("grpc"))}
    ${w.logU32("token", OUT.extra)}
    ${w.log("stream", stream("grpc"))}
    ${w.logU32("token", OUT.extra)}
    ${w.log("call", call("grpc"))}
    ${w.logU32("token", OUT.extra)}
    ${w.log("send_on_call", `(call $proxy_grpc_send (i32.const 5) ${w.str("m")} (i32.const 0))`)}
    ${w.log("send", `(call $proxy_grpc_send (i32.const 6) ${w.str("m1")} (i32.const 0))`)}
    ${w.log("send_unknown", `(call $proxy_grpc_send (i32.const 14) ${w.str("m")} (i32.const 0))`)}
    ${w.log("cancel_http_token", "(call $proxy_grpc_cancel (i32.const 4))")}
    ${w.log("close_bits3", "(call $proxy_grpc_close (i32.const 7))")}
    ${w.log("cancel_unknown", "(call $proxy_grpc_cancel (i32.const 13))")}
    ${w.log("close_unknown", "(call $proxy_grpc_close (i32.const 10))")}
    ${w.log("cancel", "(call $proxy_grpc_cancel (i32.const 9))")}
    ${w.log("cancel_again", "(call $proxy_grpc_cancel (i32.const 9))")}
    (i32.const 0))
  (func (export "proxy_on_request_body") (param $id i32) (param $size i32) (param $eos i32) (result i32)
    ${w.log("send_end", `(call $proxy_grpc_send (i32.const 6) ${w.str("m2")} (i32.const 1))`)}
    ${w.log("close_stream", "(call $proxy_grpc_close (i32.const 6))")}
    (i32.const 0))
  (func (export "proxy_on_grpc_receive_initial_metadata") (param $root i32) (param $token i32) (param $n i32)
    ${w.log("initial_metadata_root", "(local.get $root)")}
    ${w.log("token", "(local.get $token)")}
    ${w.log("n", "(local.get $n)")}
    ${w.log("read", `(call $proxy_get_header_map_value (i32.const 4) ${w.str("k")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.logOut()}
    ${w.log("write", `(call $proxy_add_header_map_value (i32.const 4) ${w.str("a")} ${w.str("b")})`)}
    ${w.log("trailing_here", `(call $proxy_get_header_map_value (i32.const 5) ${w.str("k")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)})
  (func (export "proxy_on_grpc_receive") (param $root i32) (param $token i32) (param $size i32)
    ${w.log("receive_token", "(local.get $token)")}
    ${w.log("size", "(local.get $size)")}
    ${w.log("read", `(call $proxy_get_buffer_bytes (i32.const 5) (i32.const 0) (i32.const -1) (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.logOut()})
  (func (export "proxy_on_grpc_receive_trailing_metadata") (param $root i32) (param $token i32) (param $n i32)
    ${w.log("trailing_metadata_token", "(local.get $token)")}
    ${w.log("n", "(local.get $n)")}
    ${w.log("read", `(call $proxy_get_header_map_value (i32.const 5) ${w.str("t")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.logOut()})
  (func (export "proxy_on_grpc_close") (param $root i32) (param $token i32) (param $status i32)
    ${w.log("close_token", "(local.get $token)")}
    ${w.log("status", "(local.get $status)")}
    ${status}
    ${w.logU32("get_status_code", OUT.extra)}
    ${w.logOut()})
  (func (export "proxy_on_tick") (param $root i32)
    (i32.store (i32.const ${OUT.ptr}) (i32.const 0))
    (i32.store (i32.const ${OUT.size}) (i32.const 0))
    ${w.log("tick_read_grpc_buffer", `(call $proxy_get_buffer_bytes (i32.const 5) (i32.const 0) (i32.const -1) (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    ${w.logU32("size", OUT.size)})
  (func (export "proxy_on_vm_start") (param $root i32) (param $size i32) (result i32)
    (drop (call $proxy_set_tick_period_milliseconds (i32.const 1000)))
    (i32.const 1))
`;
});

function grpcHost() {
  const host = createTestHost({ wasm: GRPC, clusters: ["grpc"] });
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders({ ":path": "/" });
  const byToken = (token: number) => host.callouts.all.find((c): c is GrpcCallout => c.kind !== "http" && c.token === token)!;
  return { host, stream, byToken };
}

test("§5.9: tokens 5, 9 (calls) and 6 (stream); ParseFailure for unknown clusters; send/cancel/close codes", () => {
  const { host, byToken } = grpcHost();
  assert.deepEqual(host.logs.messages, [
    "call_unknown_cluster=4",
    "token=77",
    "stream_unknown_cluster=4",
    "call=0",
    "token=5",
    "stream=0",
    "token=6",
    "call=0",
    "token=9",
    "send_on_call=2",
    "send=0",
    "send_unknown=1",
    "cancel_http_token=2",
    "close_bits3=2",
    "cancel_unknown=1",
    "close_unknown=1",
    "cancel=0",
    "cancel_again=1",
  ]);
  const unary = byToken(5);
  assert.equal(unary.kind, "grpc-call");
  assert.equal(unary.cluster, "grpc");
  assert.equal(unary.serviceName, "pkg.Svc");
  assert.equal(unary.methodName, "Unary");
  assert.deepEqual(unary.initialMetadata.toArray(), [["x-md", "1"]]);
  assert.deepEqual(unary.messages.map((m) => Buffer.from(m).toString()), ["req"]);
  assert.equal(unary.timeoutMs, 1000);
  assert.equal(byToken(9).cancelled, true);
  assert.equal(byToken(6).localClosed, false);
  assert.deepEqual(byToken(6).messages.map((m) => Buffer.from(m).toString()), ["m1"]);
});

test("§5.9: a unary response arrives on the root as proxy_on_grpc_receive with buffer 5; a cancelled call gets nothing", () => {
  const { host, byToken } = grpcHost();
  host.logs.clear();
  byToken(9).receive(new TextEncoder().encode("ignored"));
  assert.deepEqual(host.logs.messages, []);
  byToken(5).receive(new TextEncoder().encode("resp"));
  assert.deepEqual(host.logs.lines, ["wasm log: receive_token=5", "wasm log: size=4", "wasm log: read=0", "wasm log: resp"]);
  assert.equal(byToken(5).settled, true);
  host.logs.clear();
  host.advanceTime(1000);
  assert.deepEqual(host.logs.messages, ["tick_read_grpc_buffer=0", "size=0"], "buffer 5 is empty outside proxy_on_grpc_receive");
});

test("§5.9/§5.10: a failed unary call closes with its status; proxy_get_status returns code and message", () => {
  const { host, byToken } = grpcHost();
  host.logs.clear();
  byToken(5).close(14, "upstream down");
  assert.deepEqual(host.logs.messages, ["close_token=5", "status=14", "get_status_code=14", "upstream down"]);
});

test("§5.9/§4.11: stream events: initial metadata (map 4, read-only), messages, trailing metadata (map 5), close", () => {
  const { host, stream, byToken } = grpcHost();
  const grpcStream = byToken(6);
  host.logs.clear();
  grpcStream.receiveInitialMetadata(HeaderMap.from({ k: "v", other: "o" }));
  grpcStream.receive(new TextEncoder().encode("s1"));
  grpcStream.receiveTrailingMetadata(HeaderMap.from({ t: "done" }));
  assert.deepEqual(host.logs.messages, [
    "initial_metadata_root=1",
    "token=6",
    "n=2",
    "read=0",
    "v",
    "write=2",
    "trailing_here=2",
    "receive_token=6",
    "size=2",
    "read=0",
    "s1",
    "trailing_metadata_token=6",
    "n=1",
    "read=0",
    "done",
  ]);
  host.logs.clear();
  stream.requestBody("x", { endOfStream: true });
  assert.deepEqual(host.logs.messages, ["send_end=0", "close_stream=0"]);
  assert.equal(grpcStream.localClosed, true);
  assert.deepEqual(grpcStream.messages.map((m) => Buffer.from(m).toString()), ["m1", "m2"]);
  host.logs.clear();
  grpcStream.close(0, "");
  assert.deepEqual(host.logs.messages, ["close_token=6", "status=0", "get_status_code=0", ""]);
  assert.equal(grpcStream.settled, true);
});
