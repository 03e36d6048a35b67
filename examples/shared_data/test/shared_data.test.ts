import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost, type TestHost } from "proxy-wasm-as/testing";

const wasm = new URL("../build/shared_data.wasm", import.meta.url);
const KEY = "shared_data_key";

function wasmMessages(host: TestHost, level: string): string[] {
  return host.logs.records.filter((r) => r.source === "wasm" && r.level === level).map((r) => r.message);
}

function request(host: TestHost): void {
  const result = host.flow({ request: { headers: [[":method", "GET"], [":path", "/"], [":authority", "localhost"]] } });
  assert.equal(result.downstream.status, 200);
}

/** The stored counter: a little-endian u64. */
function storedCount(host: TestHost): bigint | undefined {
  const entry = host.process.sharedData.get(host.vm.vmId, KEY);
  if (entry === undefined) return undefined;
  assert.equal(entry.value.length, 8);
  return new DataView(entry.value.buffer, entry.value.byteOffset, 8).getBigUint64(0, true);
}

test("VM start stores an empty value under shared_data_key", () => {
  const host = createTestHost({ wasm });
  const entry = host.process.sharedData.get(host.vm.vmId, KEY);
  assert.equal(entry?.value.length, 0);
  assert.deepEqual(wasmMessages(host, "warn"), []);
});

test("the first request logs shared value: 1, the third shared value: 3", () => {
  const host = createTestHost({ wasm });
  request(host);
  assert.deepEqual(wasmMessages(host, "info"), ["shared value: 1"]);
  request(host);
  request(host);
  assert.deepEqual(wasmMessages(host, "info"), ["shared value: 1", "shared value: 2", "shared value: 3"]);
  assert.equal(storedCount(host), 3n);
});

test("ten requests (the end-to-end traffic) end at shared value: 10", () => {
  const host = createTestHost({ wasm });
  for (let i = 0; i < 10; i++) request(host);
  assert.equal(wasmMessages(host, "info").at(-1), "shared value: 10");
  assert.equal(storedCount(host), 10n);
});

test("two VMs with the same vm_id share one counter", () => {
  const first = createTestHost({ wasm, vmId: "counter" });
  request(first);
  request(first);
  // The second VM's start resets the value (as Envoy's would: every VM runs on_vm_start).
  const second = createTestHost({ wasm, vmId: "counter", shareProcessWith: first });
  request(second);
  request(first);
  assert.deepEqual(wasmMessages(first, "info"), ["shared value: 1", "shared value: 2", "shared value: 1", "shared value: 2"]);
  assert.equal(storedCount(first), 2n);
});

test("VMs with different vm_ids count separately", () => {
  const first = createTestHost({ wasm, vmId: "a" });
  const second = createTestHost({ wasm, vmId: "b", shareProcessWith: first });
  request(first);
  request(first);
  request(second);
  assert.equal(storedCount(first), 2n);
  assert.equal(storedCount(second), 1n);
});

test("a write by another VM between read and write is retried (CAS mismatch), not lost", () => {
  const host = createTestHost({ wasm, vmId: "race" });
  request(host); // stored: 1
  const store = host.process.sharedData;
  // Another worker sneaks in exactly once, right after the filter's first read of this request.
  const originalGet = store.get.bind(store);
  let raced = false;
  store.get = (vmId: string, key: string) => {
    const entry = originalGet(vmId, key);
    if (!raced && key === KEY && vmId === "race") {
      raced = true;
      const value = new Uint8Array(8);
      new DataView(value.buffer).setBigUint64(0, 41n, true);
      store.set(vmId, key, value, 0);
    }
    return entry;
  };
  request(host);
  store.get = originalGet;
  assert.equal(raced, true);
  // The first attempt (1 + 1) hit a CAS mismatch; the retry read 41 and wrote 42.
  assert.deepEqual(wasmMessages(host, "info"), ["shared value: 1", "shared value: 42"]);
  assert.equal(storedCount(host), 42n);
});
