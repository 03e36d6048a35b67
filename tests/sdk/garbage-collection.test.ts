// When the SDK collects garbage (assembly/runtime/collect.ts): once the managed objects made since
// the last collection add up to as many bytes as survived it, at least 64 KiB. Checked from the
// outside through the size of linear memory, on the http_body example, which makes about 1.5 MB
// of garbage per request with a 256 KiB body (the body copied, decoded to UTF-16 and logged).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestHost } from "../../src/testing";

const wasm = new URL("../../examples/http_body/build/http_body.wasm", import.meta.url);
const body = "x".repeat(256 * 1024);
const flow = { request: { headers: { ":method": "POST", ":path": "/", ":authority": "a", "content-length": String(body.length) }, body } };

test("a filter that makes 1.5 MB of garbage per request keeps linear memory at a few MB over 300 requests", () => {
  const host = createTestHost({ wasm, logLevel: "warn" });
  const sizes: number[] = [];
  for (let i = 0; i < 300; i++) {
    const result = host.flow(flow);
    assert.equal(result.upstream.body, "[this is replaced body]");
    if (i === 49 || i === 299) sizes.push(host.host.vm.memoryBytes);
  }
  // Collecting after every 64th outermost callback instead let the heap reach 30 MB here.
  assert.equal(sizes[1], sizes[0], `memory grew from ${sizes[0]} to ${sizes[1]} bytes`);
  assert.ok(sizes[1] <= 4 * 1024 * 1024, `${sizes[1]} bytes of linear memory`);
});
