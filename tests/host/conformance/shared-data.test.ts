/**
 * Reference §5.11: shared key/value data partitioned by vm_id, one process-wide CAS counter.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { conformanceModule, OUT } from "./conformance-module";

const GET = (w: { str(s: string): string }, key: string) =>
  `(call $proxy_get_shared_data ${w.str(key)} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}) (i32.const ${OUT.extra}))`;

const WRITER = conformanceModule((w) => `
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("get_missing", GET(w, "k"))}
    ${w.log("set", `(call $proxy_set_shared_data ${w.str("k")} ${w.str("v1")} (i32.const 0))`)}
    ${w.log("get", GET(w, "k"))}
    ${w.logOut()}
    ${w.logU32("cas", OUT.extra)}
    ${w.log("set_stale_cas", `(call $proxy_set_shared_data ${w.str("k")} ${w.str("v2")} (i32.const 999))`)}
    ${w.log("set_cas", `(call $proxy_set_shared_data ${w.str("k")} ${w.str("v2")} (i32.load (i32.const ${OUT.extra})))`)}
    ${w.log("get", GET(w, "k"))}
    ${w.logOut()}
    ${w.logU32("cas", OUT.extra)}
    ${w.log("set_cas_missing_key", `(call $proxy_set_shared_data ${w.str("fresh")} ${w.str("x")} (i32.const 77))`)}
    ${w.log("set_empty", `(call $proxy_set_shared_data ${w.str("empty")} (i32.const 0) (i32.const 0) (i32.const 0))`)}
    (i32.store (i32.const ${OUT.ptr}) (i32.const -1))
    (i32.store (i32.const ${OUT.size}) (i32.const -1))
    ${w.log("get_empty", GET(w, "empty"))}
    ${w.logU32("empty_ptr", OUT.ptr)}
    ${w.logU32("empty_size", OUT.size)}
    ${w.logU32("empty_cas", OUT.extra)}
    ${w.log("get_bad_key", `(call $proxy_get_shared_data (i32.const 0x7ffffff0) (i32.const 64) (i32.const ${OUT.ptr}) (i32.const ${OUT.size}) (i32.const ${OUT.extra}))`)}
    ${w.log("get_bad_cas_ptr", `(call $proxy_get_shared_data ${w.str("k")} (i32.const ${OUT.ptr}) (i32.const ${OUT.size}) (i32.const 0x7ffffff0))`)}
    ${w.log("set_bad_value", `(call $proxy_set_shared_data ${w.str("k")} (i32.const 0x7ffffff0) (i32.const 64) (i32.const 0))`)}
    (i32.const 1))
`);

const READER = conformanceModule((w) => `
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("reader_get", GET(w, "k"))}
    ${w.logOut()}
    ${w.logU32("reader_cas", OUT.extra)}
    ${w.log("reader_set", `(call $proxy_set_shared_data ${w.str("other")} ${w.str("o")} (i32.const 0))`)}
    ${w.log("reader_get_other", GET(w, "other"))}
    ${w.logU32("reader_other_cas", OUT.extra)}
    (i32.const 1))
`);

test("§5.11: NotFound, unconditional write, CAS mismatch and match, CAS on a missing key succeeds, empty value is 0/0", () => {
  const host = createTestHost({ wasm: WRITER, vmId: "shared" });
  assert.deepEqual(host.logs.messages, [
    "get_missing=1",
    "set=0",
    "get=0",
    "v1",
    "cas=1",
    "set_stale_cas=8",
    "set_cas=0",
    "get=0",
    "v2",
    "cas=2",
    "set_cas_missing_key=0",
    "set_empty=0",
    "get_empty=0",
    "empty_ptr=0",
    "empty_size=0",
    "empty_cas=4",
    "get_bad_key=6",
    "get_bad_cas_ptr=6",
    "set_bad_value=6",
  ]);
  assert.equal(host.sharedData("k"), "v2");
  assert.equal(host.sharedData("fresh"), "x");
});

test("§5.11: VMs with the same vm_id share the data; the CAS counter is global across vm_ids", () => {
  const writer = createTestHost({ wasm: WRITER, vmId: "shared" });
  writer.logs.clear();
  createTestHost({ wasm: READER, vmId: "shared", shareProcessWith: writer });
  assert.deepEqual(writer.logs.messages, ["reader_get=0", "v2", "reader_cas=2", "reader_set=0", "reader_get_other=0", "reader_other_cas=5"]);
  writer.logs.clear();
  const stranger = createTestHost({ wasm: READER, vmId: "elsewhere", shareProcessWith: writer });
  assert.deepEqual(writer.logs.messages.slice(0, 1), ["reader_get=1"]);
  assert.deepEqual(writer.logs.messages.slice(-3), ["reader_set=0", "reader_get_other=0", "reader_other_cas=6"]);
  assert.equal(stranger.sharedData("other"), "o");
  assert.equal(stranger.sharedData("k"), undefined);
});
