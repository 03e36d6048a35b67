// `npm run bench`: the project's speed, size and memory targets, measured in one run and written
// to bench/results.json. Targets are checked here, never in timed tests.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestHost } from "../src/testing";
import { loadCheckedModule, PluginHost, ProxyProcess } from "../src/host";
import { CONFIG_SCHEMA_SECTION } from "../src/config/config-schema";
import { initWat, watToWasm } from "../tests/helpers/wat";
import { measureProxySoak, soakTargets } from "./proxy-soak";
import { measureProxyThroughput } from "./proxy-throughput";
import { measureShapes } from "./shape-costs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const examplesDir = join(root, "examples");
const ADD_HEADER_CONFIG = { name: "x-bench", value: "yes" };
const REQUEST = { headers: [[":method", "GET"], [":path", "/"], [":authority", "bench.local"], ["user-agent", "bench"]] as [string, string][] };
const RESPONSE = { headers: [[":status", "302"], ["location", "http://elsewhere/"], ["content-length", "0"]] as [string, string][] };

interface Target { value: number; target: number; unit: string; met: boolean }
const target = (value: number, limit: number, unit: string, lowerIsBetter = true): Target =>
  ({ value, target: limit, unit, met: lowerIsBetter ? value <= limit : value >= limit });

function exampleModules(): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const name of readdirSync(examplesDir).sort()) {
    const wasm = join(examplesDir, name, "build", `${name}.wasm`);
    if (existsSync(wasm)) sizes[name] = statSync(wasm).size;
  }
  return sizes;
}

function requireModule(name: string): Uint8Array {
  const path = join(examplesDir, name, "build", `${name}.wasm`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return new Uint8Array(readFileSync(path));
}

/** Nanoseconds per whole request lifecycle (request headers, response headers, log/done/delete). */
function timeLifecycles(wasm: Uint8Array, pluginConfig: object | undefined, iterations: number): number {
  const host = createTestHost({ wasm, pluginConfig, logLevel: "info" });
  for (let i = 0; i < 2_000; i++) host.flow({ request: REQUEST, response: RESPONSE });
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) host.flow({ request: REQUEST, response: RESPONSE });
  return Number(process.hrtime.bigint() - started) / iterations;
}

/** Hostcalls per request lifecycle, by name, after warm-up. */
function countHostcalls(wasm: Uint8Array, pluginConfig: object | undefined): { total: number; byName: Record<string, number> } {
  let counting = false;
  const byName: Record<string, number> = {};
  const host = createTestHost({
    wasm, pluginConfig, logLevel: "info",
    onHostcall: (_module, name) => { if (counting) byName[name] = (byName[name] ?? 0) + 1; },
  });
  for (let i = 0; i < 10; i++) host.flow({ request: REQUEST, response: RESPONSE });
  const runs = 100;
  counting = true;
  for (let i = 0; i < runs; i++) host.flow({ request: REQUEST, response: RESPONSE });
  counting = false;
  let total = 0;
  for (const name of Object.keys(byName)) { byName[name] /= runs; total += byName[name]; }
  return { total, byName };
}

/**
 * Linear memory after warm-up and after `iterations` lifecycles. Logged at warn, so a filter that
 * logs every header (http_headers) still reads and writes them but formats no log line.
 */
function memoryOver(wasm: Uint8Array, pluginConfig: object | undefined, iterations: number, request = REQUEST) {
  const host = createTestHost({ wasm, pluginConfig, logLevel: "warn" });
  // The SDK collects once 64 KiB of new objects piled up (assembly/runtime/collect.ts), so the heap
  // reaches its working size within the first few thousand requests; flat means no growth after.
  for (let i = 0; i < 20_000; i++) host.flow({ request, response: RESPONSE });
  const afterWarmup = host.vm.memoryBytes;
  for (let i = 0; i < iterations; i++) host.flow({ request, response: RESPONSE });
  return { afterWarmupBytes: afterWarmup, finalBytes: host.vm.memoryBytes, growthBytes: host.vm.memoryBytes - afterWarmup, iterations };
}

/** `wasm` with a custom section holding `tag` appended: other bytes, the same module. V8 keeps
 * compiled modules by their bytes, so compiling the same bytes twice measures a cache hit. */
function withTag(wasm: Uint8Array, tag: number): Uint8Array {
  const name = new TextEncoder().encode("bench-compile");
  const payload = new TextEncoder().encode(String(tag));
  const body = [name.length, ...name, ...payload];
  return new Uint8Array([...wasm, 0, body.length, ...body]);
}

/** Median milliseconds to compile (over `runs` distinct copies), and to instantiate, run
 * `_initialize`, start the VM and configure the plugin. */
function vmStartMs(wasm: Uint8Array, configuration: string, runs: number): { medianMs: number; compileMs: number } {
  const compileSamples: number[] = [];
  let module = loadCheckedModule(wasm);
  for (let i = 0; i < runs; i++) {
    const copy = withTag(wasm, process.pid * 1000 + i);
    const compileStarted = process.hrtime.bigint();
    module = loadCheckedModule(copy);
    compileSamples.push(Number(process.hrtime.bigint() - compileStarted) / 1e6);
  }
  compileSamples.sort((a, b) => a - b);
  const compileMs = compileSamples[Math.floor(compileSamples.length / 2)];
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    new PluginHost({ module, process: new ProxyProcess(), configuration, name: "bench" });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)], compileMs };
}

/**
 * Microseconds per plugin start on a running VM (root context create, vm start, onConfigure) with
 * `configuration`: the difference between a typical configuration and `{}` is the cost of reading
 * it with a declared configuration's parser.
 */
function configureMicros(wasm: Uint8Array, configuration: string, runs: number): number {
  const host = createTestHost({ wasm, logLevel: "info" });
  for (let i = 0; i < 20; i++) host.addPlugin({ name: `warm${i}`, pluginConfig: configuration });
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) host.addPlugin({ name: `p${i}`, pluginConfig: configuration });
  return Number(process.hrtime.bigint() - started) / runs / 1000;
}

/** Bytes of the configuration schema section a module carries (0 without a declaration). */
function schemaSectionBytes(wasm: Uint8Array): number {
  const sections = WebAssembly.Module.customSections(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), CONFIG_SCHEMA_SECTION);
  return sections.length === 0 ? 0 : sections[0].byteLength;
}

/** Per shape: the SDK's instructions per request at most 1.05x its floor's (when callgrind ran). */
function shapeTargets(shapes: Awaited<ReturnType<typeof measureShapes>>): Record<string, Target> {
  const targets: Record<string, Target> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    if (shape.instructionsPerRequest) targets[`${name}InstructionsOverFloor`] = target(shape.instructionsPerRequest.ratio, 1.05, "x the floor's instructions per request");
  }
  return targets;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main() {
  await initWat();
  const addHeader = requireModule("add_header");
  const floor = watToWasm(readFileSync(join(root, "bench", "fixtures", "add_header_floor.wat"), "utf8"));
  const sizes = exampleModules();
  const lifecycles = Number(process.env.BENCH_LIFECYCLES ?? 20_000);

  console.log("sizes:", sizes);
  const sdkNs = timeLifecycles(addHeader, ADD_HEADER_CONFIG, lifecycles);
  const floorNs = timeLifecycles(floor, undefined, lifecycles);
  console.log(`lifecycle: add_header ${round(sdkNs / 1000, 2)} µs, floor ${round(floorNs / 1000, 2)} µs`);
  const sdkCalls = countHostcalls(addHeader, ADD_HEADER_CONFIG);
  const floorCalls = countHostcalls(floor, undefined);
  console.log("hostcalls per request:", sdkCalls, "floor:", floorCalls);
  const memoryLifecycles = Number(process.env.BENCH_MEMORY_LIFECYCLES ?? 1_000_000);
  // add_header writes response headers; http_headers reads every request header and writes both maps.
  const memory = {
    add_header: memoryOver(addHeader, ADD_HEADER_CONFIG, memoryLifecycles),
    http_headers: memoryOver(requireModule("http_headers"), { header: "x-bench", value: "yes" }, memoryLifecycles),
  };
  console.log("memory:", memory);
  const start = vmStartMs(addHeader, JSON.stringify(ADD_HEADER_CONFIG), 30);
  console.log("vm start:", start);
  // A typical declared configuration: json_validation's list of required keys.
  const jsonValidation = requireModule("json_validation");
  const typical = JSON.stringify({ requiredKeys: ["id", "token", "user", "scope", "exp", "iat", "aud", "iss"] });
  const configureRuns = Number(process.env.BENCH_CONFIGURE_RUNS ?? 500);
  const typicalUs = configureMicros(jsonValidation, typical, configureRuns);
  const emptyUs = configureMicros(jsonValidation, "{}", configureRuns);
  const declaredConfiguration = {
    addHeaderSchemaBytes: schemaSectionBytes(addHeader),
    addHeaderBytesWithParseJson: 8_227,
    note: "add_header read {name, value} with parseJson at 8,227 bytes; the declaration's reader, messages and schema section add the rest",
    configureUs: { typical: round(typicalUs, 2), empty: round(emptyUs, 2), parse: round(typicalUs - emptyUs, 2), configuration: typical, runs: configureRuns },
  };
  console.log("declared configuration:", declaredConfiguration);
  const shapes = await measureShapes();
  const proxy = await measureProxyThroughput(root);
  if (proxy) console.log("proxy:", proxy);
  const soak = await measureProxySoak(root);
  if (soak) console.log("soak:", { requests: soak.requests, errors: soak.errors, rssMB: soak.rssMB });

  const everyExampleUnder32KiB = Object.values(sizes).every((size) => size < 32 * 1024);
  const results = {
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown" },
    sizes: { examples: sizes },
    addHeader: {
      lifecycleNs: { sdk: round(sdkNs), floor: round(floorNs), ratio: round(sdkNs / floorNs, 2), iterations: lifecycles },
      hostcallsPerRequest: { sdk: sdkCalls, floor: floorCalls },
      vmStart: { medianMs: round(start.medianMs, 3), compileMs: round(start.compileMs, 3), note: "instantiate + _initialize + proxy_on_vm_start + proxy_on_configure; compile is separate" },
    },
    shapes,
    memory,
    declaredConfiguration,
    proxy: proxy ?? { skipped: "the dev proxy is not available in this build" },
    soak: soak ? { measuredAt: new Date().toISOString(), ...soak } : { skipped: "examples/add_header is not built" },
    targets: {
      addHeaderSize: target(sizes.add_header ?? NaN, 8 * 1024, "bytes (with its declared configuration)"),
      everyExampleUnder32KiB: { value: Math.max(...Object.values(sizes)), target: 32 * 1024, unit: "bytes (largest)", met: everyExampleUnder32KiB },
      memoryFlat: target(Math.max(memory.add_header.growthBytes, memory.http_headers.growthBytes), 0, "bytes of growth after warm-up (add_header, http_headers)"),
      hostcallsOnlyForHeaderOperations: target(sdkCalls.total, floorCalls.total, "hostcalls per request (floor: the same work on the raw ABI)"),
      ...shapeTargets(shapes),
      ...(proxy ? { filterThroughputCost: target(proxy.filterCostPercent, 10, "% of the proxy's throughput") } : {}),
      ...(soak ? soakTargets(soak) : {}),
    },
  };
  writeFileSync(join(root, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log("targets:");
  for (const [name, t] of Object.entries(results.targets)) console.log(`  ${t.met ? "✓" : "✗"} ${name}: ${t.value} (target ${t.target} ${t.unit})`);
  console.log("wrote bench/results.json");
}

await main();
