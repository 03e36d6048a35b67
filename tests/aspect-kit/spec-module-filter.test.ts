// The spec module as the filter (`withProxyWasmHost({ specModuleIsFilter: true })`), without
// as-pect: add_header's module stands in for a spec module, instantiated by "as-pect" (here, the
// test) with the forwarders, then adopted by the host.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createProxyWasmTestImports, decodePairList, encodePairList, FilterLibrary, SpecModuleFilter, withProxyWasmHost } from "../../src/testing/aspect";

const ADD_HEADER = new URL("../../examples/add_header/build/add_header.wasm", import.meta.url);
const bytes = () => new Uint8Array(readFileSync(ADD_HEADER));

test("spec module filter: forwarders fail before the host starts; the host adopts the instance once", () => {
  const self = new SpecModuleFilter(bytes());
  // add_header imports only hostcalls and WASI: nothing beyond the ABI to register.
  assert.deepEqual(self.extraHostFunctions, []);
  const forwarders = self.forwarders();
  assert.equal(typeof forwarders.env.proxy_log, "function");
  assert.throws(() => (forwarders.env.proxy_log as () => void)(), {
    message: "env.proxy_log was called before the spec started its TestHost (the spec module is the filter: start `new TestHost().start()` first)",
  });
  assert.throws(() => self.instantiate({}, {}), { message: "the spec module is not instantiated yet" });
  const instance = { exports: {} };
  self.adopt(instance);
  assert.equal(self.instantiate({}, { env: { proxy_log: () => 0 } }), instance);
  assert.equal((forwarders.env.proxy_log as () => number)(), 0);
  assert.throws(() => self.instantiate({}, {}), {
    message: "the spec module is the filter and hosts one VM: start one TestHost per spec file (a global shared by its tests), with the default fail_closed policy",
  });
});

test("spec module filter: new TestHost() hosts the instance the spec runs in, and a second one is refused", () => {
  const self = new SpecModuleFilter(bytes());
  const strings: string[] = [];
  const module = { __getString: (p: number) => strings[p - 1], __newString: (t: string) => strings.push(t) };
  const imports = createProxyWasmTestImports(new FilterLibrary(undefined), () => module, self) as unknown as Record<string, (...args: unknown[]) => unknown>;
  const s = (text: string) => module.__newString(text);
  const read = (pointer: unknown) => module.__getString(pointer as number);
  const error = () => (imports.has_error() === 1 ? read(imports.take_error()) : "");
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes()), self.forwarders() as WebAssembly.Imports);
  self.adopt(instance);
  const host = imports.host_start(s(encodePairList([["pluginConfig", '{"name": "x-a", "value": "1"}']])));
  assert.equal(error(), "");
  const stream = imports.stream_new(host, s(""));
  assert.equal(read(imports.stream_headers(stream, 0, s(encodePairList([[":method", "GET"], [":path", "/"], [":authority", "a"]])), 1)), "Continue");
  assert.equal(read(imports.stream_headers(stream, 1, s(encodePairList([[":status", "200"]])), 1)), "Continue");
  assert.deepEqual(decodePairList(read(imports.side_headers(stream, 1))), [[":status", "200"], ["x-a", "1"], ["location", "envoy-wasm"], ["hello", "world!"]]);
  // The instance's own memory holds what the root context read from the configuration the host
  // wrote there: the header name, kept as an AssemblyScript (UTF-16) string. The JSON bytes
  // themselves may be gone: the SDK frees them after parsing, and the collector reuses the block.
  const memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
  assert.ok(Buffer.from(memory).includes(Buffer.from("x-a", "utf16le")));
  imports.host_start(s(""));
  assert.equal(error(), "the spec module is the filter and hosts one VM: start one TestHost per spec file (a global shared by its tests), with the default fail_closed policy");
});

test("setLogLevel: the running host's level changes; a bad level is refused by name", () => {
  const strings: string[] = [];
  const module = { __getString: (p: number) => strings[p - 1], __newString: (t: string) => strings.push(t) };
  const imports = createProxyWasmTestImports(new FilterLibrary(ADD_HEADER), () => module) as unknown as Record<string, (...args: unknown[]) => unknown>;
  const s = (text: string) => module.__newString(text);
  const error = () => (imports.has_error() === 1 ? strings[(imports.take_error() as number) - 1] : "");
  const host = imports.host_start(s(""));
  imports.host_set_log_level(host, s("loud"));
  assert.equal(error(), '"loud" is not a log level (trace, debug, info, warn, error, critical, off)');
  imports.host_set_log_level(host, s(""));
  assert.equal(error(), "setLogLevel: give a level name");
  imports.host_set_log_level(host, s("off"));
  assert.equal(error(), "");
  imports.logs_clear(host);
  const stream = imports.stream_new(host, s(""));
  imports.stream_headers(stream, 0, s(encodePairList([[":method", "GET"], [":path", "/"], [":authority", "a"]])), 1);
  imports.stream_complete(stream);
  assert.equal(strings[(imports.logs_lines(host) as number) - 1], "");
});

test("withProxyWasmHost: a filter and specModuleIsFilter together are refused", () => {
  assert.throws(() => withProxyWasmHost({ filter: ADD_HEADER, specModuleIsFilter: true }), {
    message: "withProxyWasmHost: give either `filter` or `specModuleIsFilter`, not both",
  });
});
