/**
 * A module that imports its table: cpp-host's `V8::link` (proxy-wasm-cpp-host src/v8/v8.cc,
 * `case wasm::EXTERN_TABLE`) creates a table with the import's element type and limits, as it
 * creates an imported memory, so such a module loads in Envoy; it must load here too.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { createTestHost } from "../../../src/testing";
import { initWat, watToWasm } from "../../helpers/wat";

before(initWat);

test("a module that imports its function table loads and calls through it", () => {
  const host = createTestHost({
    wasm: watToWasm(`(module
      (import "env" "__indirect_function_table" (table 2 funcref))
      (type $answer (func (result i32)))
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 1024))
      (func $pause (result i32) (i32.const 1))
      (elem (i32.const 1) $pause)
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (call_indirect (type $answer) (i32.const 1))))`),
  });
  // 1 from the function found through the table: proxy_on_request_headers stops (§4.8).
  assert.equal(host.http().requestHeaders({ ":path": "/" }), "StopAllIterationAndWatermark");
  assert.equal(host.failure, null);
});
