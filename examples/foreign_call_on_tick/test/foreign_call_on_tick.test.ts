import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { createTestHost } from "proxy-wasm-as/testing";
import { Result } from "proxy-wasm-as";

const WASM = new URL("../build/foreign_call_on_tick.wasm", import.meta.url);

test("foreign_call_on_tick: each 1 ms tick calls compress; an identity function gives the input in hex", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  const seen: string[] = [];
  host.registerForeignFunction("compress", (args) => {
    seen.push(new TextDecoder().decode(args));
    return { result: Result.Ok, output: args.slice() };
  });
  assert.deepEqual(host.logs.messages, [], "nothing happens before the first tick");
  host.advanceTime(1);
  assert.deepEqual(host.logs.at("info"), ["foreign function (compress) called: 1, result: 68656c6c6f20776f726c6421"]);
  host.advanceTime(4);
  assert.deepEqual(host.logs.at("info"), [1, 2, 3, 4, 5].map((n) => `foreign function (compress) called: ${n}, result: 68656c6c6f20776f726c6421`));
  assert.deepEqual(seen, Array(5).fill("hello world!"));
});

test("foreign_call_on_tick: with the host's own compress the result is zlib data (789c...)", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  host.advanceTime(1);
  const expected = Buffer.from(deflateSync("hello world!")).toString("hex");
  assert.equal(expected, "789ccb48cdc9c95728cf2fca495104001e89047e", "the line shown in the README");
  assert.deepEqual(host.logs.at("info"), [`foreign function (compress) called: 1, result: ${expected}`]);
});

test("foreign_call_on_tick: a failing function is logged critical and the count still advances", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  host.registerForeignFunction("compress", () => ({ result: Result.SerializationFailure }));
  host.advanceTime(1);
  assert.deepEqual(host.logs.at("critical"), ["foreign function (compress) failed: 3"]);
  host.registerForeignFunction("compress", (args) => ({ result: Result.Ok, output: args.slice(0, 1) }));
  host.advanceTime(1);
  assert.deepEqual(host.logs.at("info"), ["foreign function (compress) called: 2, result: 68"]);
  assert.equal(host.failure, null);
});

test("foreign_call_on_tick: a function with no output logs an empty result", () => {
  const host = createTestHost({ strict: true, wasm: WASM });
  host.registerForeignFunction("compress", () => ({ result: Result.Ok }));
  host.advanceTime(1);
  assert.deepEqual(host.logs.at("info"), ["foreign function (compress) called: 1, result: "]);
});
