/**
 * Reference §5.13: metric ids carry the type in their low 2 bits; Envoy's per-type rules for
 * increment, record and get.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { conformanceModule, OUT } from "./conformance-module";

const DEFINE = (w: { str(s: string): string }, type: number, name: string) =>
  `(call $proxy_define_metric (i32.const ${type}) ${w.str(name)} (i32.const ${OUT.extra}))`;
const GET = (id: number) => `(call $proxy_get_metric (i32.const ${id}) (i32.const ${OUT.u64}))`;

const METRICS = conformanceModule((w) => `
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    ${w.log("define_counter", DEFINE(w, 0, "requests"))}
    ${w.logU32("id", OUT.extra)}
    ${w.log("define_counter_again", DEFINE(w, 0, "requests"))}
    ${w.logU32("id", OUT.extra)}
    ${w.log("define_gauge", DEFINE(w, 1, "active"))}
    ${w.logU32("id", OUT.extra)}
    ${w.log("define_histogram", DEFINE(w, 2, "latency"))}
    ${w.logU32("id", OUT.extra)}
    ${w.log("define_bad_type", DEFINE(w, 3, "nope"))}
    ${w.log("define_bad_id_ptr", `(call $proxy_define_metric (i32.const 0) ${w.str("x")} (i32.const 0x7ffffffc))`)}

    ${w.log("counter_inc", "(call $proxy_increment_metric (i32.const 4) (i64.const 5))")}
    ${w.log("counter_inc_other_id", "(call $proxy_increment_metric (i32.const 8) (i64.const 2))")}
    ${w.log("counter_get", GET(4))}
    ${w.hexU64("counter_value")}
    ${w.log("counter_inc_zero", "(call $proxy_increment_metric (i32.const 4) (i64.const 0))")}
    ${w.log("counter_inc_negative", "(call $proxy_increment_metric (i32.const 4) (i64.const -1))")}
    ${w.log("counter_record", "(call $proxy_record_metric (i32.const 4) (i64.const 10))")}
    ${w.log("counter_get", GET(8))}
    ${w.hexU64("counter_value")}

    ${w.log("gauge_inc", "(call $proxy_increment_metric (i32.const 5) (i64.const 10))")}
    ${w.log("gauge_dec", "(call $proxy_increment_metric (i32.const 5) (i64.const -3))")}
    ${w.log("gauge_zero", "(call $proxy_increment_metric (i32.const 5) (i64.const 0))")}
    ${w.log("gauge_get", GET(5))}
    ${w.hexU64("gauge_value")}
    ${w.log("gauge_record", "(call $proxy_record_metric (i32.const 5) (i64.const 42))")}
    ${w.log("gauge_get", GET(5))}
    ${w.hexU64("gauge_value")}

    ${w.log("histogram_inc", "(call $proxy_increment_metric (i32.const 6) (i64.const 1))")}
    ${w.log("histogram_record", "(call $proxy_record_metric (i32.const 6) (i64.const 100))")}
    ${w.log("histogram_get", GET(6))}

    ${w.log("unknown_counter_inc", "(call $proxy_increment_metric (i32.const 12) (i64.const 1))")}
    ${w.log("unknown_gauge_inc", "(call $proxy_increment_metric (i32.const 9) (i64.const 1))")}
    ${w.log("unknown_histogram_inc", "(call $proxy_increment_metric (i32.const 10) (i64.const 1))")}
    ${w.log("bits3_inc", "(call $proxy_increment_metric (i32.const 7) (i64.const 1))")}
    ${w.log("unknown_counter_record", "(call $proxy_record_metric (i32.const 12) (i64.const 1))")}
    ${w.log("unknown_histogram_record", "(call $proxy_record_metric (i32.const 10) (i64.const 1))")}
    ${w.log("bits3_record", "(call $proxy_record_metric (i32.const 7) (i64.const 1))")}
    ${w.log("unknown_counter_get", GET(12))}
    ${w.log("unknown_gauge_get", GET(9))}
    ${w.log("bits3_get", GET(7))}
    ${w.log("get_bad_ptr", "(call $proxy_get_metric (i32.const 4) (i32.const 0x7ffffffc))")}
    (i32.const 1))
`);

test("§5.13: ids, per-type increment/record/get semantics and result codes", () => {
  const host = createTestHost({ wasm: METRICS });
  assert.deepEqual(host.logs.messages, [
    "define_counter=0",
    "id=4",
    "define_counter_again=0",
    "id=8",
    "define_gauge=0",
    "id=5",
    "define_histogram=0",
    "id=6",
    "define_bad_type=2",
    "define_bad_id_ptr=6",
    "counter_inc=0",
    "counter_inc_other_id=0",
    "counter_get=0",
    "counter_value=0700000000000000",
    "counter_inc_zero=2",
    "counter_inc_negative=2",
    "counter_record=0",
    "counter_get=0",
    "counter_value=1100000000000000",
    "gauge_inc=0",
    "gauge_dec=0",
    "gauge_zero=0",
    "gauge_get=0",
    "gauge_value=0700000000000000",
    "gauge_record=0",
    "gauge_get=0",
    "gauge_value=2a00000000000000",
    "histogram_inc=2",
    "histogram_record=0",
    "histogram_get=2",
    "unknown_counter_inc=1",
    "unknown_gauge_inc=1",
    "unknown_histogram_inc=2",
    "bits3_inc=2",
    "unknown_counter_record=1",
    "unknown_histogram_record=1",
    "bits3_record=1",
    "unknown_counter_get=1",
    "unknown_gauge_get=1",
    "bits3_get=2",
    "get_bad_ptr=6",
  ]);
  assert.equal(host.metric("requests"), 17n);
  assert.equal(host.metric("wasmcustom.active"), 42n);
  assert.deepEqual(host.process.metrics.get("latency")?.samples, [100n]);
  assert.deepEqual(host.process.metrics.all().map((m) => [m.name, m.kind]), [
    ["wasmcustom.requests", "counter"],
    ["wasmcustom.active", "gauge"],
    ["wasmcustom.latency", "histogram"],
  ]);
});

test("§5.13: ids are per VM, the stat is shared: a second VM defining the same name gets id 4 and adds to it", () => {
  const first = createTestHost({ wasm: METRICS });
  createTestHost({ wasm: METRICS, shareProcessWith: first });
  assert.equal(first.logs.messages.filter((m) => m === "id=4").length, 2);
  assert.equal(first.metric("requests"), 34n);
});
