// Per-request cost of the host path alone: add_header lifecycles through PluginHost.httpStream
// with a sink that drops everything, the way the dev proxy's Wasm filter drives it. Not part of
// `npm run bench`; run it under `node --cpu-prof` to see where the host spends its time:
//   node --conditions=proxy-wasm-as-source --import tsx bench/host-lifecycle-profile.ts [lifecycles]
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HeaderMap, loadCheckedModule, PluginHost, ProxyProcess, RealScheduler, type HttpStreamSink } from "../src/host";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const module = loadCheckedModule(readFileSync(join(root, "examples", "add_header", "build", "add_header.wasm")));
const host = new PluginHost({
  module,
  process: new ProxyProcess({ scheduler: new RealScheduler(), logLevel: "info" }),
  configuration: JSON.stringify({ name: "x-bench", value: "yes" }),
  name: "bench",
});

const noop = (): void => {};
const sink: HttpStreamSink = {
  upstreamHeaders: noop,
  upstreamData: noop,
  upstreamTrailers: noop,
  downstreamHeaders: noop,
  downstreamData: noop,
  downstreamTrailers: noop,
  reset: noop,
};

const enc = new TextEncoder();
const requestPairs = [[":method", "GET"], [":path", "/"], [":authority", "bench.local"], ["user-agent", "bench"]].map(([k, v]) => [enc.encode(k), enc.encode(v)] as const);
const responsePairs = [[":status", "200"], ["content-length", "2"]].map(([k, v]) => [enc.encode(k), enc.encode(v)] as const);

function lifecycle(): void {
  // Fresh maps per request, as the proxy converts each request's headers into new maps.
  const request = new HeaderMap();
  for (const [k, v] of requestPairs) request.add(k, v);
  const response = new HeaderMap();
  for (const [k, v] of responsePairs) response.add(k, v);
  const stream = host.httpStream(sink, {
    protocol: "HTTP/1.1",
    properties: { source: { address: "127.0.0.1:40000", port: 40000 }, destination: { address: "127.0.0.1:10000", port: 10000 } },
  });
  stream.requestHeaders(request, true);
  stream.responseHeaders(response, false);
  stream.responseBody(BODY, true);
  stream.complete();
}
const BODY = enc.encode("ok");

const iterations = Number(process.argv[2] ?? 200_000);
for (let i = 0; i < 20_000; i++) lifecycle();
const started = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) lifecycle();
const ns = Number(process.hrtime.bigint() - started) / iterations;
if (host.vm.failed) throw new Error(`VM failed: ${host.vm.failure?.report}`);
console.log(`host lifecycle (add_header, request headers + response headers + body + complete): ${Math.round(ns)} ns/op over ${iterations}`);

// The same lifecycle through the dev proxy's in-thread Wasm filter (header lists of strings in
// and out, as the worker sees them), so the filter's own conversions are measured too.
const { buildInProcessWasmFilters } = await import("../src/proxy/filters/wasm-filters");
const { buildFilterChain } = await import("../src/proxy/filters/filter-chain");
const { ProxyLogger } = await import("../src/proxy/proxy-logger");
const { ProxyStats } = await import("../src/proxy/proxy-stats");
const wasmPath = join(root, "examples", "add_header", "build", "add_header.wasm");
const chainHandle = await buildInProcessWasmFilters({
  filters: [{
    name: "bench", rootId: "", vmId: "", wasmPath,
    pluginConfiguration: Buffer.from(JSON.stringify({ name: "x-bench", value: "yes" })), vmConfiguration: Buffer.alloc(0),
    failurePolicy: "FAIL_CLOSED", allowOnHeadersStopIteration: false,
  }],
  hotReload: false,
  clusters: new Map(),
  logger: new ProxyLogger({ level: "error" }),
  stats: new ProxyStats(),
});
const ends = {
  requestHeaders: noop, requestBody: noop, requestTrailers: noop,
  responseHeaders: noop, responseBody: noop, responseTrailers: noop,
  localReply: noop, reset: noop,
};
const info = { httpVersion: 1 as const, downstreamRemoteAddress: "127.0.0.1", downstreamRemotePort: 40000, downstreamLocalAddress: "127.0.0.1", downstreamLocalPort: 10000, routeClusterName: "default" };
const BODY_BUFFER = Buffer.from("ok");
function proxyLifecycle(): void {
  const chain = buildFilterChain(chainHandle.current(), ends, info);
  chain.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "bench.local"], ["user-agent", "bench"]], true);
  chain.responseHeaders([[":status", "200"], ["content-length", "2"]], false);
  chain.responseBody(BODY_BUFFER, true);
  chain.finish();
}
for (let i = 0; i < 20_000; i++) proxyLifecycle();
const proxyStarted = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) proxyLifecycle();
const proxyNs = Number(process.hrtime.bigint() - proxyStarted) / iterations;
console.log(`proxy filter lifecycle (the same through the in-thread Wasm filter and its chain): ${Math.round(proxyNs)} ns/op over ${iterations}`);
await chainHandle.close();
