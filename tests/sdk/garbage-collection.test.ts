// When the SDK collects garbage (assembly/runtime/collect.ts): once the managed objects made since
// the last collection add up to as many bytes as survived it (counted up to 16 MiB) plus 64 KiB. Checked from the
// outside through the size of linear memory, on the http_body example, which makes about 1.5 MB
// of garbage per request with a 256 KiB body (the body copied, decoded to UTF-16 and logged).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildFilter } from "../../src/cli/commands/build";
import { createTestHost } from "../../src/testing";
import { captureIo } from "../cli/cli-test-io";
import { userProject } from "../helpers/user-project";


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

// A filter holding 40 MB of live data that makes 1 MB of garbage per request, built as a user
// builds it (release, minimal runtime). Uncapped, the trigger waits for 40 MB of garbage, and the
// allocator, which doubles linear memory when it runs out, took the VM to 152 MiB; with the
// garbage capped at 16 MB it stays at 76 MiB. Envoy fails a VM at 1 GiB (proxy-wasm-cpp-host
// include/proxy-wasm/limits.h), so a large live heap must not double before it collects.
const BIG_LIVE_HEAP = `
import { RootContext, HttpContext, FilterHeadersStatus, registerDefaultRoot } from "proxy-wasm-as/assembly";
export * from "proxy-wasm-as/assembly/exports";
const kept = new Array<ArrayBuffer>();
let last: ArrayBuffer | null = null;
class Root extends RootContext {
  onConfigure(size: u32): bool {
    for (let i = 0; i < 40; i++) kept.push(new ArrayBuffer(1 << 20));
    return true;
  }
  createHttpContext(id: u32): HttpContext { return new Stream(id, this); }
}
class Stream extends HttpContext {
  onRequestHeaders(count: u32, end: bool): FilterHeadersStatus {
    last = new ArrayBuffer(1 << 20);
    return FilterHeadersStatus.Continue;
  }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`;

test("a filter holding 40 MB collects after at most 16 MB of garbage: linear memory stays under 80 MiB over 200 requests", async () => {
  const project = userProject("pwas-gc-");
  writeFileSync(join(project, "assembly", "index.ts"), BIG_LIVE_HEAP);
  const cli = captureIo(project);
  const built = await buildFilter(cli.io, { entry: "assembly/index.ts", debug: false, out: "build/big.wasm" });
  assert.ok(built, cli.out.stderr);
  const host = createTestHost({ wasm: new Uint8Array(readFileSync(join(project, "build", "big.wasm"))), logLevel: "warn" });
  const request = { request: { headers: { ":method": "GET", ":path": "/", ":authority": "a" } } };
  for (let i = 0; i < 200; i++) host.flow(request);
  assert.ok(host.host.vm.memoryBytes <= 80 * 1024 * 1024, `${host.host.vm.memoryBytes} bytes of linear memory`);
});
