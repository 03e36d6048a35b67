// The bench's filter shapes: each one an AssemblyScript SDK filter (bench/fixtures/<name>) and its
// floor, the same hostcalls written by hand in WAT with no SDK (bench/fixtures/<name>_floor.wat),
// played with the same request and response.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFilter } from "../src/cli/commands/build";
import { watToWasm } from "../tests/helpers/wat";
import { createTestHost, type FlowInput, type TestHost, type TestHostOptions } from "../src/testing";

export interface Shape {
  /** Directory name under bench/fixtures, and the key in results.json. */
  name: string;
  /** What the filter does per request. */
  work: string;
  pluginConfig?: object;
  /** Cluster names the shape's callouts target. */
  clusters?: string[];
  flow: FlowInput;
  /**
   * How the floor is written: "wat" (default), bench/fixtures/<name>_floor.wat; or "raw-abi", an
   * AssemblyScript module with no SDK (stub runtime, host imports declared by hand) in
   * bench/fixtures/<name>_floor, built by {@link buildShapes}, for floors too large to write in
   * WAT (bench/README.md says which and why).
   */
  floor?: "wat" | "raw-abi";
  /**
   * One unit of the shape's work on a host (what "per request" counts). Default: `host.flow(flow)`.
   * Shapes whose work is not a plain request (a callout answered, a configure) say so here.
   */
  play?: (host: TestHost) => void;
}

/** A test host running `wasm` as the shape's filter (`options` adds to the shape's own). */
export function createShapeHost(shape: Shape, wasm: Uint8Array, options: Partial<TestHostOptions> = {}): TestHost {
  return createTestHost({ wasm, pluginConfig: shape.pluginConfig, clusters: shape.clusters, pluginName: "bench", logLevel: "warn", ...options });
}

/** Plays one unit of the shape's work. */
export function playShape(shape: Shape, host: TestHost): void {
  if (shape.play) shape.play(host);
  else host.flow(shape.flow);
}

const REQUEST_HEADERS: [string, string][] = [
  [":method", "GET"], [":path", "/api/items?page=2"], [":authority", "bench.local"], [":scheme", "http"],
  ["user-agent", "bench/1.0"], ["accept", "application/json"], ["accept-encoding", "gzip, deflate"],
  ["x-request-id", "9f1c2a4e-7d3b-4c55-a0e1-2b6f8d9c0a11"], ["cookie", "session=abc123; theme=dark"],
  ["x-forwarded-for", "10.0.0.1"],
];
const RESPONSE_HEADERS: [string, string][] = [
  [":status", "200"], ["content-type", "application/json"], ["content-length", "2"], ["x-powered-by", "bench"],
];

const REQUEST: FlowInput = { request: { headers: REQUEST_HEADERS }, response: { headers: RESPONSE_HEADERS } };
/** What F5's auth service answers: 200, naming the user. */
export const AUTH_ANSWER = { status: 200, headers: [["x-auth-user", "alice"]] as [string, string][] };

/** F5's unit: request headers (the filter calls "auth"), the test kit answers, the response, completion. */
function playCallout(host: TestHost): void {
  const stream = host.http();
  stream.requestHeaders(REQUEST_HEADERS, { endOfStream: true });
  host.callouts.pendingHttp[0]?.respond(AUTH_ANSWER);
  if (stream.upstream.headers !== null) stream.responseHeaders(RESPONSE_HEADERS, { endOfStream: true });
  stream.complete();
}

/** F3's request body: 4 KiB of text with digits, punctuation and UTF-8 (cut at 4,096 bytes). */
const BODY_4K: Uint8Array = (() => {
  const line = new TextEncoder().encode('{"item": "the quick brown fox jumps over the lazy dog", "n": 123456789, "café": true}\n');
  const body = new Uint8Array(4_096);
  for (let i = 0; i < body.length; i++) body[i] = line[i % line.length];
  return body;
})();

// F7's configuration: about 1 KiB of JSON (sent minified, as Envoy sends a Struct) with strings,
// a number, a bool, an array of ten strings and a nested object.
const F7_CONFIG = {
  headerName: "x-wasm-config-decision",
  headerValue: "allowed-by-the-json-configuration-bench-shape; policy=api-gateway-default; revision=2026-12-07; owner=platform-networking@example.com; change=NET-4821",
  upstreamCluster: "outbound|8443||authorization-service.security-and-identity.svc.cluster.local",
  timeoutMs: 2500,
  enabled: true,
  allowedPaths: [
    "/api/v1/catalog/items/search/by-category", "/api/v1/customers/orders/history/summaries", "/api/v1/customers/profiles/preferences/notifications",
    "/api/v1/inventory/warehouses/stock-levels", "/api/v2/catalog/items/recommendations/personalised", "/api/v2/checkout/payments/intents/confirmations",
    "/api/v2/customers/addresses/validation", "/api/v2/shipping/rates/estimates/international", "/internal/health/readiness-and-liveness",
    "/internal/metrics/prometheus/federate/by-namespace",
  ],
  rateLimit: { name: "per-client-address-with-burst-allowance-for-authenticated-api-traffic", requestsPerSecond: 250, burst: 40 },
};

export const SHAPES: Shape[] = [
  { name: "f1_add_header", work: "add a response header", flow: { request: { headers: REQUEST_HEADERS }, response: { headers: RESPONSE_HEADERS } } },
  {
    name: "f2_headers",
    work: "read every request header as pairs, read :path and one property, add a request header; remove one and add one response header",
    flow: { request: { headers: REQUEST_HEADERS }, response: { headers: RESPONSE_HEADERS } },
  },
  {
    name: "f3_body_rewrite",
    work: "read the 4 KiB request body (one frame, at end of stream) and replace it with its ASCII letters uppercased",
    flow: {
      request: { headers: [[":method", "POST"], ...REQUEST_HEADERS.slice(1), ["content-type", "text/plain"], ["content-length", "4096"]], body: BODY_4K },
      response: { headers: RESPONSE_HEADERS },
    },
  },
  {
    name: "f4_metric_increment",
    work: "increment a counter (defined on the first request) once per request in onRequestHeaders",
    flow: { request: { headers: REQUEST_HEADERS }, response: { headers: RESPONSE_HEADERS } },
  },
  {
    name: "f5_http_callout",
    work: "call cluster auth from request headers and hold the request; on the answer read :status and x-auth-user, add x-auth-user to the request and resume it",
    clusters: ["auth"],
    flow: REQUEST,
    play: playCallout,
  },
  {
    name: "f6_shared_data_cas",
    work: "read a shared-data counter with its CAS, increment its decimal value and write it back with the CAS (retrying on CasMismatch)",
    flow: REQUEST,
  },
  {
    name: "f7_json_config",
    work: "configure: parse a 1 KiB JSON plugin configuration (strings, a number, a bool, an array of ten strings, a nested object) into typed fields",
    pluginConfig: F7_CONFIG,
    flow: { request: { headers: REQUEST_HEADERS }, response: { headers: RESPONSE_HEADERS } },
    floor: "raw-abi",
    play: (host) => host.reconfigure(),
  },
];

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

/** The shape's SDK module path (built by {@link buildShapes}). */
export const sdkModulePath = (shape: Shape) => join(fixtures, shape.name, "build", `${shape.name}.wasm`);

const floorName = (shape: Shape) => `${shape.name}_floor`;

/**
 * The shape's floor module: its WAT compiled (requires initWat() to have completed), or its
 * raw-ABI build (requires buildShapes() to have completed).
 */
export const floorModule = (shape: Shape): Uint8Array =>
  shape.floor === "raw-abi"
    ? new Uint8Array(readFileSync(join(fixtures, floorName(shape), "build", `${floorName(shape)}.wasm`)))
    : watToWasm(readFileSync(join(fixtures, `${floorName(shape)}.wat`), "utf8"));

// Builds the AssemblyScript project bench/fixtures/<project> with the CLI's build (skipped when
// unchanged since its last build).
async function buildProject(project: string): Promise<void> {
  const cwd = join(fixtures, project);
  const io = { stdout: process.stdout, stderr: process.stderr, cwd, env: process.env, stopSignal: new Promise<void>(() => {}) };
  const out = join("build", `${project}.wasm`);
  const result = await buildFilter(io, { entry: "assembly/index.ts", config: "asconfig.json", debug: false, out, incremental: true, label: project });
  if (result === null) throw new Error(`bench ${project} failed to build`);
}

/** Builds every shape's SDK filter, and the raw-ABI floors, with the CLI's build. */
export async function buildShapes(): Promise<void> {
  for (const shape of SHAPES) {
    await buildProject(shape.name);
    if (shape.floor === "raw-abi") await buildProject(floorName(shape));
  }
}
