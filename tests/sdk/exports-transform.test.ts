// The SDK's export transform (transform/proxy-wasm-exports.mjs, listed in the SDK's asconfig.json):
// filters built as a user builds them (a project whose asconfig extends the installed SDK's)
// export exactly the Proxy-Wasm callbacks they implement, plus what the SDK always needs.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildFilter } from "../../src/cli/commands/build";
import { CALLBACKS } from "../../src/host/abi";
import { createTestHost } from "../../src/testing";
import { captureIo } from "../cli/cli-test-io";
import { userProject } from "../helpers/user-project";

const project = userProject("pwas-exports-");

/** What every SDK filter exports whatever it implements. */
const ALWAYS = ["proxy_abi_version_0_2_1", "malloc", "proxy_on_memory_allocate", "proxy_on_context_create", "proxy_on_delete", "memory", "_initialize"];

const PRELUDE = [
  "import {",
  "  RootContext, HttpContext, TcpContext, FilterHeadersStatus, FilterDataStatus, FilterStatus, PeerType,",
  "  registerDefaultRoot, registerHttpFilter, httpCall, grpcCall, grpcStream, Header, log,",
  '} from "proxy-wasm-as/assembly";',
  'export * from "proxy-wasm-as/assembly/exports";',
  "",
].join("\n");

interface Built {
  exports: string[];
  stdout: string;
}

/** Builds `source` (after the imports above) with the project's asconfig; the module's export names, sorted. */
async function build(name: string, source: string, options: { config?: string; debug?: boolean } = {}): Promise<Built> {
  writeFileSync(join(project, "assembly", `${name}.ts`), PRELUDE + source);
  const cli = captureIo(project);
  const out = join("build", `${name}.wasm`);
  const result = await buildFilter(cli.io, { entry: `assembly/${name}.ts`, config: options.config, debug: options.debug ?? true, out });
  assert.ok(result, cli.out.stderr);
  const module = new WebAssembly.Module(readFileSync(join(project, out)));
  return { exports: WebAssembly.Module.exports(module).map((entry) => entry.name).sort(), stdout: cli.out.stdout };
}

function expected(...callbacks: string[]): string[] {
  return [...ALWAYS, ...callbacks].sort();
}

const HEADERS_ONLY = `
class Root extends RootContext {
  createHttpContext(id: u32): HttpContext | null { return new Stream(id, this); }
}
class Stream extends HttpContext {
  onResponseHeaders(count: u32, end: bool): FilterHeadersStatus { return FilterHeadersStatus.Continue; }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`;

describe("the SDK's export transform", () => {
  it("keeps only the callbacks a filter overrides (release build), and build prints them", async () => {
    const built = await build("headers_only", HEADERS_ONLY, { debug: false });
    assert.deepEqual(built.exports, expected("proxy_on_response_headers"));
    assert.match(built.stdout, /\n {2}callbacks: proxy_on_context_create, proxy_on_delete, proxy_on_response_headers\n$/);
  });

  it("routes the runtime's allocation through the SDK's allocator: TLSF's code is gone, its anchors are not exported", async () => {
    // The release target optimised as users build it, with names kept (the name section) so that
    // what the module holds can be read; the optimiser drops what nothing calls.
    writeFileSync(
      join(project, "asconfig.names.json"),
      JSON.stringify({ extends: "./node_modules/proxy-wasm-as/asconfig.json", targets: { release: { debug: true } } }),
    );
    const built = await build("allocator_names", HEADERS_ONLY, { config: "asconfig.names.json", debug: false });
    const module = new WebAssembly.Module(readFileSync(join(project, "build", "allocator_names.wasm")));
    const names = new TextDecoder().decode(WebAssembly.Module.customSections(module, "name")[0]!);
    assert.ok(names.includes("assembly/runtime/allocator/"), "the SDK's allocator is in the module");
    for (const tlsf of ["~lib/rt/tlsf/searchBlock", "~lib/rt/tlsf/insertBlock", "~lib/rt/tlsf/initialize"]) {
      assert.ok(!names.includes(tlsf), `${tlsf} is gone`);
    }
    assert.deepEqual(built.exports.filter((name) => name.startsWith("__proxy_wasm_as")), []);
  });

  it("a filter without most callbacks runs as in Envoy: start succeeds, the rest continue, shutdown is immediate", async () => {
    await build("headers_only_run", HEADERS_ONLY.replace("return FilterHeadersStatus.Continue; }", 'this.responseHeaders.add("x-seen", "1"); return FilterHeadersStatus.Continue; }'));
    const host = createTestHost({ wasm: readFileSync(join(project, "build", "headers_only_run.wasm")), pluginConfig: { ignored: true } });
    const result = host.flow({
      request: { headers: [[":method", "POST"], [":path", "/"], [":authority", "a"]], body: "request body", trailers: [["x-t", "1"]] },
      response: { headers: [[":status", "200"]], body: "response body", trailers: [["x-r", "2"]] },
    });
    assert.deepEqual(result.upstream.headers, [[":method", "POST"], [":path", "/"], [":authority", "a"]]);
    assert.equal(result.upstream.body, "request body");
    assert.deepEqual(result.upstream.trailers, [["x-t", "1"]]);
    assert.deepEqual(result.downstream.headers, [[":status", "200"], ["x-seen", "1"]]);
    assert.equal(result.downstream.body, "response body");
    assert.deepEqual(result.downstream.trailers, [["x-r", "2"]]);
    assert.equal(host.shutdown(), true);
  });

  it("finds overrides below an intermediate class, with the SDK's own registerHttpFilter root", async () => {
    const built = await build(
      "request_body",
      `
class BodyReader extends HttpContext {
  onRequestBody(size: u32, end: bool): FilterDataStatus { return FilterDataStatus.StopIterationAndBuffer; }
}
class Leaf extends BodyReader {}
registerHttpFilter("", (id: u32, root: RootContext): HttpContext => new Leaf(id, root));
`,
    );
    assert.deepEqual(built.exports, expected("proxy_on_request_body"));
  });

  it("keeps the four gRPC exports for a filter that makes gRPC calls, and not the HTTP-call one", async () => {
    const built = await build(
      "grpc_caller",
      `
class Root extends RootContext {
  onConfigure(size: u32): bool {
    grpcCall(this, "cluster", "svc.Service", "Method", null, new ArrayBuffer(0), 1000);
    return true;
  }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`,
    );
    assert.deepEqual(
      built.exports,
      expected("proxy_on_configure", "proxy_on_grpc_close", "proxy_on_grpc_receive", "proxy_on_grpc_receive_initial_metadata", "proxy_on_grpc_receive_trailing_metadata"),
    );
  });

  it("keeps all four gRPC exports when a stream context overrides only one of them", async () => {
    const built = await build(
      "grpc_stream",
      `
class Root extends RootContext {
  createHttpContext(id: u32): HttpContext | null { return new Stream(id, this); }
}
class Stream extends HttpContext {
  onRequestHeaders(count: u32, end: bool): FilterHeadersStatus {
    grpcStream(this, "cluster", "svc.Service", "Watch", null);
    return FilterHeadersStatus.StopIteration;
  }
  onGrpcReceive(token: u32, size: u32): void { log.info("message"); }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`,
    );
    assert.deepEqual(
      built.exports,
      expected("proxy_on_grpc_close", "proxy_on_grpc_receive", "proxy_on_grpc_receive_initial_metadata", "proxy_on_grpc_receive_trailing_metadata", "proxy_on_request_headers"),
    );
  });

  it("keeps the HTTP-call answer for a filter that makes HTTP calls, and root callbacks it overrides", async () => {
    const built = await build(
      "http_caller",
      `
class Root extends RootContext {
  onVmStart(size: u32): bool { this.setTickPeriod(1000); return true; }
  onTick(): void { httpCall(this, "cluster", [Header.of(":path", "/")], null, null, 1000); }
  onDone(): bool { return false; }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`,
    );
    assert.deepEqual(built.exports, expected("proxy_on_done", "proxy_on_http_call_response", "proxy_on_tick", "proxy_on_vm_start"));
  });

  it("keeps TCP callbacks and onLog that a TCP filter overrides", async () => {
    const built = await build(
      "tcp",
      `
class Root extends RootContext {
  createTcpContext(id: u32): TcpContext | null { return new Connection(id, this); }
}
class Connection extends TcpContext {
  onDownstreamData(size: u32, end: bool): FilterStatus { return FilterStatus.Continue; }
  onUpstreamConnectionClose(peer: PeerType): void {}
  onLog(): void { log.info("closed"); }
}
registerDefaultRoot((id: u32): RootContext => new Root(id));
`,
    );
    assert.deepEqual(built.exports, expected("proxy_on_downstream_data", "proxy_on_log", "proxy_on_upstream_connection_close"));
  });

  const ALL_CALLBACKS = CALLBACKS.filter((spec) => spec.kind === "proxy" && spec.versions.includes("0.2.1")).map((spec) => spec.name);

  it("keeps every callback with PROXY_WASM_AS_EXPORT_ALL=1 in the environment", async () => {
    process.env.PROXY_WASM_AS_EXPORT_ALL = "1";
    try {
      const built = await build("export_all_env", HEADERS_ONLY);
      assert.deepEqual(built.exports, [...new Set([...ALWAYS, ...ALL_CALLBACKS])].sort());
      assert.equal(ALL_CALLBACKS.length, 28);
    } finally {
      delete process.env.PROXY_WASM_AS_EXPORT_ALL;
    }
  });

  it("keeps every callback with --use PROXY_WASM_AS_EXPORT_ALL=1 in a project's asconfig", async () => {
    writeFileSync(
      join(project, "asconfig.export-all.json"),
      JSON.stringify({ extends: "./node_modules/proxy-wasm-as/asconfig.json", options: { use: ["PROXY_WASM_AS_EXPORT_ALL=1"] } }),
    );
    const built = await build("export_all_use", HEADERS_ONLY, { config: "asconfig.export-all.json" });
    assert.deepEqual(built.exports, [...new Set([...ALWAYS, ...ALL_CALLBACKS])].sort());
  });

  it("leaves a module alone that does not use the SDK's exports file, even one named exports.ts", async () => {
    // The filter's own ABI exports in its own exports.ts: nothing of the SDK's registry is linked.
    writeFileSync(
      join(project, "assembly", "exports.ts"),
      [
        'import "proxy-wasm-as/assembly/runtime/abort";', // the SDK asconfig's abort alias
        "export function proxy_abi_version_0_2_1(): void {}",
        "export function malloc(size: usize): usize { return heap.alloc(size); }",
        "export function proxy_on_context_create(id: u32, parent: u32): void {}",
        "export function proxy_on_tick(id: u32): void {}",
        "export function proxy_on_request_headers(id: u32, count: u32, end: u32): u32 { return 0; }",
        "",
      ].join("\n"),
    );
    const cli = captureIo(project);
    const result = await buildFilter(cli.io, { entry: "assembly/exports.ts", debug: true, out: "build/own.wasm" });
    assert.ok(result, cli.out.stderr);
    const module = new WebAssembly.Module(readFileSync(join(project, "build/own.wasm")));
    assert.deepEqual(
      WebAssembly.Module.exports(module).map((entry) => entry.name).sort(),
      ["_initialize", "malloc", "memory", "proxy_abi_version_0_2_1", "proxy_on_context_create", "proxy_on_request_headers", "proxy_on_tick"],
    );
  });
});
