// A few seconds of the fuzzer on every `npm test` (`npm run fuzz` runs it long, docs/fuzzing.md):
// the fuzz filter makes random hostcalls with hostile arguments from every callback, on test-kit
// flows and through the dev proxy (in a child process) with real HTTP/1.1, h2c and raw-socket
// clients. Envoy's rule (proxy-wasm-abi.md §4.10, §5.0; cpp-host src/exports.cc, envoy
// source/extensions/common/wasm/context.cc): a bad hostcall argument is a result code
// (InvalidMemoryAccess, BadArgument, NotFound, ...), never a crash, and only a trap in the module
// fails its VM. The fuzz filter never traps, so every count here must be 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzKit } from "./kit-fuzzer";
import { fuzzProxy } from "./proxy-fuzzer";

test("fuzz smoke (test kit): seeds 1 and 2, 40,000 hostcalls each: no host exception, hang or disabled filter", async () => {
  for (const seed of [1, 2]) {
    const totals = await fuzzKit({ seed, hostcalls: 40_000 });
    assert.ok(totals.hostcalls >= 40_000 && totals.streams > 100, totals.summary());
    assert.equal(totals.faults, 0, `${totals.summary()}\n${totals.describeFindings()}`);
  }
});

test("fuzz smoke (dev proxy): seed 1, 200 requests from HTTP/1.1, h2c and raw-socket clients: no process death, hang or disabled filter", { timeout: 180_000 }, async () => {
  const totals = await fuzzProxy({ seed: 1, hostcalls: Number.MAX_SAFE_INTEGER, requests: 200, concurrency: 8, requestDeadlineMs: 30_000 });
  assert.equal(totals.faults, 0, `${totals.summary()}\n${totals.describeFindings()}`);
  assert.equal(totals.streams, 200, totals.summary());
  assert.ok(totals.hostcalls > 1000, `the filter ran: ${totals.summary()}`);
});
