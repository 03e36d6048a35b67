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
   * One unit of the shape's work on a host (what "per request" counts). Default: `host.flow(flow)`.
   * Shapes whose work is not a plain request (a callout answered, a configure) say so here.
   */
  play?: (host: TestHost) => void;
  /**
   * Units played before anything is counted or timed (default 3,000). A shape whose host path
   * V8 optimizes later needs more: F5 and F6 still had seven and three functions reach TurboFan
   * between units 3,000 and 8,000, which made their first counted region 4-38 % dearer.
   */
  warmup?: number;
}

/** The default of {@link Shape.warmup}. */
export const DEFAULT_WARMUP = 3_000;

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

export const SHAPES: Shape[] = [
  { name: "f1_add_header", work: "add a response header", flow: { request: { headers: REQUEST_HEADERS }, response: { headers: RESPONSE_HEADERS } } },
  {
    name: "f2_headers",
    work: "read every request header as pairs, read :path and one property, add a request header; remove one and add one response header",
    flow: { request: { headers: REQUEST_HEADERS }, response: { headers: RESPONSE_HEADERS } },
  },
  {
    name: "f5_http_callout",
    work: "call cluster auth from request headers and hold the request; on the answer read :status and x-auth-user, add x-auth-user to the request and resume it",
    clusters: ["auth"],
    flow: REQUEST,
    play: playCallout,
    warmup: 10_000,
  },
  {
    name: "f6_shared_data_cas",
    work: "read a shared-data counter with its CAS, increment its decimal value and write it back with the CAS (retrying on CasMismatch)",
    flow: REQUEST,
    warmup: 10_000,
  },
];

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

/** The shape's SDK module path (built by {@link buildShapes}). */
export const sdkModulePath = (shape: Shape) => join(fixtures, shape.name, "build", `${shape.name}.wasm`);

/** The shape's floor module. Requires initWat() to have completed. */
export const floorModule = (shape: Shape): Uint8Array =>
  watToWasm(readFileSync(join(fixtures, `${shape.name}_floor.wat`), "utf8"));

/** Builds every shape's SDK filter with the CLI's build (skipped when unchanged since its last build). */
export async function buildShapes(): Promise<void> {
  for (const shape of SHAPES) {
    const cwd = join(fixtures, shape.name);
    const io = { stdout: process.stdout, stderr: process.stderr, cwd, env: process.env, stopSignal: new Promise<void>(() => {}) };
    const out = join("build", `${shape.name}.wasm`);
    const result = await buildFilter(io, { entry: "assembly/index.ts", config: "asconfig.json", debug: false, out, incremental: true, label: shape.name });
    if (result === null) throw new Error(`bench shape ${shape.name} failed to build`);
  }
}
