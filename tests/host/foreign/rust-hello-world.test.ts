import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../../src/testing";
import { RUST_HELLO_WORLD } from "./foreign-fixtures";

const GREETING = "Hello, World!";

test("rust hello_world: greets at VM start and reads a host clock of 0 as the epoch on its first tick", () => {
  // The first tick comes 5 s after start, so starting the fake clock 5 s before the epoch makes
  // the host report exactly 0 ns then, as the Rust test framework's acceptance test does.
  const host = createTestHost({ wasm: RUST_HELLO_WORLD, clockStartMs: -5000 });
  assert.equal(host.rootContextId, 1);
  assert.deepEqual(host.logs.records.map((r) => [r.level, r.message]), [["info", GREETING]]);
  host.advanceTime(4999);
  assert.deepEqual(host.logs.messages, [GREETING], "no tick before the 5000 ms period");
  host.advanceTime(1);
  assert.deepEqual(host.logs.at("info"), [GREETING, "It's 1970-01-01 00:00:00 UTC, there is no lucky number."]);
  host.advanceTime(5000);
  assert.deepEqual(host.logs.messages.slice(2), ["It's 1970-01-01 00:00:05 UTC, there is no lucky number."]);
  assert.equal(host.failure, null);
});

test("rust hello_world: the u64 nanosecond clock round-trips through the module (dates, leap day, millis)", () => {
  const host = createTestHost({ wasm: RUST_HELLO_WORLD, clockStartMs: Date.UTC(2024, 1, 29, 23, 59, 54, 750) });
  host.advanceTime(10_000);
  assert.deepEqual(host.logs.messages, [
    GREETING,
    "It's 2024-02-29 23:59:59.750 UTC, there is no lucky number.",
    "It's 2024-03-01 00:00:04.750 UTC, there is no lucky number.",
  ]);
  assert.deepEqual(host.logs.lines.at(-1), "wasm log: It's 2024-03-01 00:00:04.750 UTC, there is no lucky number.");
});

test("rust hello_world: default clock start gives 2024-01-01; root-context lines carry root_id and vm_id", () => {
  const host = createTestHost({ wasm: RUST_HELLO_WORLD, pluginName: "hello_world", rootId: "hello_root", vmId: "vm1" });
  host.advanceTime(5000);
  assert.deepEqual(host.logs.lines, [
    "wasm log hello_root vm1: Hello, World!",
    "wasm log hello_root vm1: It's 2024-01-01 00:00:05 UTC, there is no lucky number.",
  ]);
});

test("rust hello_world: below info level nothing is logged, and ticks still run", () => {
  const host = createTestHost({ wasm: RUST_HELLO_WORLD, logLevel: "warn" });
  host.advanceTime(15_000);
  assert.deepEqual(host.logs.messages, []);
  assert.equal(host.failure, null);
});
