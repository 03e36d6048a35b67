/**
 * Reference §5.17: proxy_call_foreign_function and Envoy's compress, uncompress,
 * clear_route_cache and set_envoy_filter_state, plus user-registered functions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { createTestHost } from "../../../src/testing";
import { Result } from "../../../src/host";
import { conformanceModule, OUT, type WatText } from "./conformance-module";

const CALL = (w: WatText, name: string, args: string) =>
  `(call $proxy_call_foreign_function ${w.str(name)} ${args} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}))`;
const RESET = `(i32.store (i32.const ${OUT.ptr}) (i32.const -1)) (i32.store (i32.const ${OUT.size}) (i32.const -1))`;

const FOREIGN = conformanceModule((w) => `
  (global $compressed_ptr (mut i32) (i32.const 0))
  (global $compressed_size (mut i32) (i32.const 0))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("root_filter_state", CALL(w, "set_envoy_filter_state", w.str("state")))}
    ${w.log("root_clear_route_cache", CALL(w, "clear_route_cache", "(i32.const 0) (i32.const 0)"))}
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    ${w.log("compress", CALL(w, "compress", w.str("hello hello hello hello")))}
    (global.set $compressed_ptr (i32.load (i32.const ${OUT.ptr})))
    (global.set $compressed_size (i32.load (i32.const ${OUT.size})))
    ${w.hexOut("compressed")}
    ${w.log("uncompress", CALL(w, "uncompress", "(global.get $compressed_ptr) (global.get $compressed_size)"))}
    ${w.logOut()}
    ${w.log("uncompress_corrupt", CALL(w, "uncompress", w.str("not zlib at all")))}
    ${w.log("unknown", CALL(w, "no_such_function", "(i32.const 0) (i32.const 0)"))}
    ${RESET}
    ${w.log("clear_route_cache", CALL(w, "clear_route_cache", "(i32.const 0) (i32.const 0)"))}
    ${w.logU32("result_ptr", OUT.ptr)}
    ${w.logU32("result_size", OUT.size)}
    ${w.log("filter_state", CALL(w, "set_envoy_filter_state", w.str("state-bytes")))}
    ${w.log("user", CALL(w, "shout", w.str("hi")))}
    ${w.logOut()}
    ${w.log("user_failing", CALL(w, "refuse", w.str("hi")))}
    ${RESET}
    ${w.log("no_results_ptr", `(call $proxy_call_foreign_function ${w.str("shout")} ${w.str("abc")} (i32.const 0) (i32.const ${OUT.size}))`)}
    ${w.logU32("size_only", OUT.size)}
    ${w.log("bad_args", CALL(w, "shout", "(i32.const 0x7ffffff0) (i32.const 64)"))}
    (i32.const 0))
`);

test("§5.17: compress/uncompress round trip, corrupt input is SerializationFailure, unknown name NotFound, user functions", () => {
  const host = createTestHost({ wasm: FOREIGN, pluginName: "f" });
  host.registerForeignFunction("shout", (args) => ({ result: Result.Ok, output: new TextEncoder().encode(new TextDecoder().decode(args).toUpperCase() + "!") }));
  host.registerForeignFunction("refuse", () => ({ result: Result.BadArgument }));
  assert.deepEqual(host.logs.messages, ["root_filter_state=1", "root_clear_route_cache=0"]);
  host.logs.clear();
  const stream = host.http();
  stream.requestHeaders({ ":path": "/" });
  const messages = host.logs.messages;
  assert.equal(messages[0], "compress=0");
  const compressed = Buffer.from(messages[1].replace("compressed=", ""), "hex");
  assert.equal(inflateSync(compressed).toString(), "hello hello hello hello", "compress output is a zlib stream");
  assert.deepEqual(messages.slice(2), [
    "uncompress=0",
    "hello hello hello hello",
    "uncompress_corrupt=3",
    "unknown=1",
    "clear_route_cache=0",
    "result_ptr=0",
    "result_size=0",
    "filter_state=0",
    "user=0",
    "HI!",
    "user_failing=2",
    "no_results_ptr=0",
    "size_only=4",
    "bad_args=6",
  ]);
  assert.deepEqual(
    host.process.foreignFunctions.recorded.map((r) => [r.name, Buffer.from(r.args).toString(), r.contextId]),
    [
      ["clear_route_cache", "", 0],
      ["clear_route_cache", "", stream.contextId],
      ["set_envoy_filter_state", "state-bytes", stream.contextId],
    ],
  );
});

test("§5.17: the registry is process-wide: a VM sharing the process sees functions registered on another", () => {
  const first = createTestHost({ wasm: FOREIGN });
  first.registerForeignFunction("shout", () => ({ result: Result.Ok, output: new TextEncoder().encode("from first") }));
  const second = createTestHost({ wasm: FOREIGN, shareProcessWith: first });
  first.logs.clear();
  second.http().requestHeaders({ ":path": "/" });
  const messages = first.logs.messages;
  assert.equal(messages[messages.indexOf("user=0") + 1], "from first");
  assert.ok(messages.includes("user_failing=1"), "refuse is not registered in this process");
});
