/**
 * Reference §3.3 (path encoding), §3.4 (value encodings), §3.5 (Envoy attributes, root vs stream
 * availability, proxy_set_property) and §5.14.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { conformanceModule, OUT, type WatText } from "./conformance-module";
import { compileWat } from "../core/wat";
import type { Scheduler } from "../../../src/host/scheduler";

const GET = (w: WatText, path: string) => `(call $proxy_get_property ${w.str(path)} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`;
/** Logs the code, then the value as text. */
const TEXT = (w: WatText, label: string, path: string) => `${w.log(label, GET(w, path))} ${w.logOut()}`;
/** Logs the code, then the value as hex. */
const HEX = (w: WatText, label: string, path: string) => `${w.log(label, GET(w, path))} ${w.hexOut(label + "_hex")}`;
/** Clears the out-params so a call that does not write them shows as an empty value. */
const CLEAR = `(i32.store (i32.const ${OUT.ptr}) (i32.const 0)) (i32.store (i32.const ${OUT.size}) (i32.const 0))`;

const PROPERTIES = conformanceModule((w) => `
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${TEXT(w, "plugin_name", "plugin_name")}
    ${TEXT(w, "plugin_root_id", "plugin_root_id")}
    ${TEXT(w, "plugin_vm_id", "plugin_vm_id")}
    ${TEXT(w, "xds_cluster", "xds\0cluster_name")}
    ${w.log("root_request_path", GET(w, "request\0path"))}
    ${w.log("root_connection_id", GET(w, "connection_id"))}
    ${w.log("root_source", GET(w, "source\0address"))}
    ${w.log("root_set", `(call $proxy_set_property ${w.str("k")} ${w.str("v")})`)}
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${TEXT(w, "path", "request\0path")}
    ${TEXT(w, "path_trailing_nul", "request\0path\0")}
    ${w.log("dotted", GET(w, "request.path"))}
    ${TEXT(w, "url_path", "request\0url_path")}
    ${TEXT(w, "query", "request\0query")}
    ${TEXT(w, "method", "request\0method")}
    ${TEXT(w, "multi", "request\0headers\0x-multi")}
    ${w.log("missing_header", GET(w, "request\0headers\0x-none"))}
    ${HEX(w, "headers", "request\0headers")}
    ${HEX(w, "time", "request\0time")}
    ${HEX(w, "mtls", "connection\0mtls")}
    ${HEX(w, "connection_id", "connection_id")}
    ${TEXT(w, "source_address", "source\0address")}
    ${HEX(w, "source_port", "source\0port")}
    ${w.log("response_before", GET(w, "response\0code"))}
    ${TEXT(w, "override", "custom")}
    ${CLEAR}
    ${w.log("null_value", GET(w, "nullish"))}
    ${HEX(w, "list", "list")}
    ${w.log("list_index", GET(w, "list\x001"))} ${w.logOut()}
    ${w.log("list_bad_index", GET(w, "list\0x"))}
    ${w.log("unknown", GET(w, "nope"))}
    ${w.log("set", `(call $proxy_set_property ${w.str("my_key")} ${w.str("stored")})`)}
    ${TEXT(w, "get_set", "my_key")}
    ${w.log("get_bad_path", `(call $proxy_get_property (i32.const 0x7ffffff0) (i32.const 64) (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`)}
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${HEX(w, "response_code", "response\0code")}
    ${TEXT(w, "still_set", "my_key")}
    (i32.const 0))
`);

/** Little-endian hex of a 64-bit integer, as the module logs it. */
function le64(value: bigint): string {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, value, true);
  return Buffer.from(bytes).toString("hex");
}

/** Hex of the pairs encoding (§3.2) of `pairs`. */
function pairsHex(pairs: [string, string][]): string {
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24);
  u32(pairs.length);
  for (const [k, v] of pairs) {
    u32(Buffer.byteLength(k));
    u32(Buffer.byteLength(v));
  }
  for (const [k, v] of pairs) parts.push(...Buffer.from(k), 0, ...Buffer.from(v), 0);
  return Buffer.from(parts).toString("hex");
}

function propertiesHost() {
  return createTestHost({
    wasm: PROPERTIES,
    pluginName: "props",
    rootId: "root-a",
    vmId: "vm-a",
    properties: { xds: { cluster_name: "web" }, nullish: null, list: ["x", "y"] },
  });
}

test("§3.5: root context sees plugin_* and xds; stream attributes are NotFound; proxy_set_property is NotFound", () => {
  const host = propertiesHost();
  assert.deepEqual(host.logs.messages, [
    "plugin_name=0",
    "props",
    "plugin_root_id=0",
    "root-a",
    "plugin_vm_id=0",
    "vm-a",
    "xds_cluster=0",
    "web",
    "root_request_path=1",
    "root_connection_id=1",
    "root_source=1",
    "root_set=1",
  ]);
});

test("§3.5: request attributes whose header is absent are NotFound, as Envoy's convertHeaderEntry leaves them", () => {
  const host = propertiesHost();
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders([["x-only", "1"]]);
  const codes = host.logs.messages.filter((line) => /^(path|url_path|query|method)=\d$/.test(line));
  assert.deepEqual(codes, ["path=1", "url_path=1", "query=1", "method=1"]);
});

test("§3.3/§3.4/§3.5: stream attributes, encodings, per-stream overrides and proxy_set_property", () => {
  const host = propertiesHost();
  host.logs.clear();
  const stream = host.http({ properties: { custom: "per-stream" } });
  stream.requestHeaders([[":method", "POST"], [":path", "/a/b?x=1&y=2#frag"], [":authority", "h"], ["x-multi", "1"], ["x-multi", "2"]]);
  const start = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;
  assert.deepEqual(host.logs.messages, [
    "path=0",
    "/a/b?x=1&y=2#frag",
    "path_trailing_nul=0",
    "/a/b?x=1&y=2#frag",
    "dotted=1",
    "url_path=0",
    "/a/b",
    "query=0",
    "x=1&y=2",
    "method=0",
    "POST",
    "multi=0",
    "1,2",
    "missing_header=1",
    "headers=0",
    "headers_hex=" + pairsHex([[":method", "POST"], [":path", "/a/b?x=1&y=2#frag"], [":authority", "h"], ["x-multi", "1,2"]]),
    "time=0",
    "time_hex=" + le64(start),
    "mtls=0",
    "mtls_hex=00",
    "connection_id=0",
    "connection_id_hex=" + le64(1n),
    "source_address=0",
    "127.0.0.1:40000",
    "source_port=0",
    "source_port_hex=" + le64(40000n),
    "response_before=1",
    "override=0",
    "per-stream",
    "null_value=3",
    "list=0",
    "list_hex=" + pairsHex([["x", ""], ["y", ""]]),
    "list_index=0",
    "y",
    "list_bad_index=1",
    "unknown=1",
    "set=0",
    "get_set=0",
    "stored",
    "get_bad_path=6",
  ]);
  host.logs.clear();
  stream.responseHeaders({ ":status": "201" });
  assert.deepEqual(host.logs.messages, ["response_code=0", "response_code_hex=" + le64(201n), "still_set=0", "stored"]);
});

test("§3.5: per-stream property overrides apply only to the stream they were given to", () => {
  const host = propertiesHost();
  host.http({ properties: { custom: "per-stream" } }).requestHeaders({ ":path": "/" });
  host.logs.clear();
  host.http().requestHeaders({ ":path": "/" });
  const messages = host.logs.messages;
  assert.equal(messages[messages.indexOf("response_before=1") + 1], "override=1");
});

/** Clock reads of one whole stream (request headers, response headers, completion) on `host`. */
function clockReadsOfOneStream(host: ReturnType<typeof createTestHost>): number {
  let reads = 0;
  // Through the interface: a scheduler may also have the optional millisecond clock.
  const clock: Scheduler = host.clock;
  const nanos = clock.nowNanos.bind(clock);
  clock.nowNanos = () => (reads++, nanos());
  const millis = clock.nowMillis?.bind(clock);
  if (millis !== undefined) clock.nowMillis = () => (reads++, millis());
  const stream = host.http();
  stream.requestHeaders({ ":path": "/" });
  stream.responseHeaders({ ":status": "200" });
  stream.complete();
  return reads;
}

test("§3.5: a stream reads the clock for request.time only when the module can read properties", () => {
  // The stream's start (request.time) and its end (request.duration).
  assert.equal(clockReadsOfOneStream(propertiesHost()), 2);

  // Nothing without proxy_get_property can see a stream's times: they cost no clock read.
  const blind = createTestHost({
    wasm: compileWat(`(module
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 1024))
      (func (export "proxy_on_context_create") (param i32 i32))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
      (func (export "proxy_on_log") (param i32)))`),
  });
  assert.equal(clockReadsOfOneStream(blind), 0);
});
