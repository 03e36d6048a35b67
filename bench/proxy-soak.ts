/**
 * The soak: keep-alive clients send requests through the dev proxy running a header-rewriting
 * filter (examples/add_header: adds a configured header, rewrites `location`, adds `hello`) for a
 * long time, and the proxy's resident set is sampled as it goes. The proxy and the upstream run in
 * child processes, so the RSS measured is the proxy's alone, not the load generator's (autocannon,
 * in this process).
 *
 * Default: 10 s of warm-up, then 75 s of load in 5 s slices (a few hundred thousand requests on a
 * small machine). `BENCH_SOAK_REQUESTS=1670000` runs until that many requests instead (the long
 * soak); `BENCH_SOAK_SECONDS`, `BENCH_SOAK_WARMUP_SECONDS` and `BENCH_SOAK_SLICE_SECONDS` change
 * the times. Run on its own with
 * `node --conditions=proxy-wasm-as-source --import tsx bench/proxy-soak.ts`, which updates only
 * the soak's entries of bench/results.json; `npm run bench` runs it with everything else.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startServingChild, UPSTREAM_SCRIPT, type ServingChild } from "./proxy-throughput";
import { soakMemory, type RssSample, type SoakMemory } from "./soak-memory";

export interface ProxySoak {
  /** Requests answered after warm-up. */
  requests: number;
  /** Non-2xx answers, connection errors (resets included) and timeouts after warm-up. */
  errors: { non2xx: number; errors: number; timeouts: number; total: number };
  rssMB: SoakMemory;
  /** Every sample: requests so far (after warm-up) and the proxy's RSS in MB. */
  samples: Array<{ requests: number; rssMB: number }>;
  seconds: number;
  warmupSeconds: number;
  warmupRequests: number;
  connections: number;
  requestsPerSecond: number;
  note: string;
}

interface AutocannonResult {
  requests: { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; pipelining: number }) => Promise<AutocannonResult>;

const CONNECTIONS = 10;
const ADD_HEADER_CONFIG = { name: "x-soak", value: "yes" };
/** The RSS growth after warm-up the soak must stay under. */
export const SOAK_GROWTH_LIMIT_MB = 10;

/** The resident set of process `pid` in bytes: /proc on Linux, `ps` elsewhere. */
export function residentSetBytes(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(status, "utf8"));
    if (match !== null) return Number(match[1]) * 1024;
  }
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim()) * 1024;
}

/** Checks that the filter really rewrites headers; a soak without it would measure nothing. */
async function assertFilterApplied(url: string): Promise<void> {
  const response = await fetch(`${url}/soak-check`, { redirect: "manual" });
  await response.arrayBuffer();
  const seen = { hello: response.headers.get("hello"), location: response.headers.get("location"), added: response.headers.get(ADD_HEADER_CONFIG.name) };
  if (response.status !== 200 || seen.hello !== "world!" || seen.location !== "envoy-wasm" || seen.added !== ADD_HEADER_CONFIG.value) {
    throw new Error(`the soak's filter is not applied: status ${response.status}, headers ${JSON.stringify(seen)}`);
  }
}

/** Runs the soak. Returns null when the add_header example is not built. */
export async function measureProxySoak(root: string, log: (line: string) => void = console.log): Promise<ProxySoak | null> {
  const wasmPath = join(root, "examples", "add_header", "build", "add_header.wasm");
  if (!existsSync(wasmPath)) return null;
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
  const seconds = Math.max(1, Number(process.env.BENCH_SOAK_SECONDS ?? 75));
  const warmupSeconds = Math.max(1, Number(process.env.BENCH_SOAK_WARMUP_SECONDS ?? 10));
  const sliceSeconds = Math.max(1, Number(process.env.BENCH_SOAK_SLICE_SECONDS ?? 5));
  const requestGoal = process.env.BENCH_SOAK_REQUESTS === undefined ? undefined : Math.max(1, Number(process.env.BENCH_SOAK_REQUESTS));
  const cli = join(root, "bin", "proxy-wasm-as.js");

  const children: ServingChild[] = [];
  try {
    const upstream = await startServingChild("soak upstream", ["--input-type=module", "-e", UPSTREAM_SCRIPT], root);
    children.push(upstream);
    const proxy = await startServingChild("soak dev proxy", [
      cli, "run", "--listen", "127.0.0.1:0", "--admin", "off", "--log-level", "error", "--upstream", upstream.url,
      "--wasm", wasmPath, "--name", "add_header", "--plugin-config", JSON.stringify(ADD_HEADER_CONFIG),
    ], root);
    children.push(proxy);
    await assertFilterApplied(proxy.url);

    const load = (duration: number) => autocannon({ url: proxy.url, connections: CONNECTIONS, duration, pipelining: 1 });
    const warmup = await load(warmupSeconds);
    const errors = { non2xx: 0, errors: 0, timeouts: 0, total: 0 };
    const samples: RssSample[] = [{ requests: 0, rssBytes: residentSetBytes(proxy.pid) }];
    log(`soak: warm-up ${warmup.requests.total} requests, RSS ${(samples[0].rssBytes / 1e6).toFixed(1)} MB`);
    const started = Date.now();
    let requests = 0;
    const done = () => (requestGoal === undefined ? Date.now() - started >= seconds * 1000 : requests >= requestGoal);
    while (!done()) {
      const slice = await load(sliceSeconds);
      requests += slice.requests.total;
      errors.non2xx += slice.non2xx;
      errors.errors += slice.errors;
      errors.timeouts += slice.timeouts;
      samples.push({ requests, rssBytes: residentSetBytes(proxy.pid) });
      log(`soak: ${requests} requests, RSS ${(samples[samples.length - 1].rssBytes / 1e6).toFixed(1)} MB, ${errors.non2xx + errors.errors + errors.timeouts} errors`);
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    errors.total = errors.non2xx + errors.errors + errors.timeouts;
    await assertFilterApplied(proxy.url);
    return {
      requests,
      errors,
      rssMB: soakMemory(samples),
      samples: samples.map((s) => ({ requests: s.requests, rssMB: Number((s.rssBytes / 1e6).toFixed(1)) })),
      seconds: Number(elapsedSeconds.toFixed(1)),
      warmupSeconds,
      warmupRequests: warmup.requests.total,
      connections: CONNECTIONS,
      requestsPerSecond: Math.round(requests / elapsedSeconds),
      note:
        `autocannon (${CONNECTIONS} keep-alive connections) in the bench process against the dev proxy in a child process ` +
        `(--concurrency 1, callback time limit on) running examples/add_header (adds ${ADD_HEADER_CONFIG.name}, rewrites location, ` +
        `adds hello), in front of a tiny upstream in another child process. RSS is the proxy process's VmRSS, sampled after ` +
        `warm-up and after every ${sliceSeconds} s slice; errors count non-2xx answers, connection errors (resets) and timeouts. ` +
        (requestGoal === undefined ? `Bounded by time (${seconds} s); BENCH_SOAK_REQUESTS=<n> runs until n requests.` : `Ran until ${requestGoal} requests.`),
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

/** The soak's targets in bench/results.json's shape: RSS growth after warm-up, and no errors. */
export function soakTargets(soak: ProxySoak) {
  return {
    soakRssGrowth: {
      value: soak.rssMB.growthMB,
      target: SOAK_GROWTH_LIMIT_MB,
      unit: `MB of proxy RSS growth after warm-up over ${soak.requests} requests`,
      met: soak.rssMB.growthMB <= SOAK_GROWTH_LIMIT_MB,
    },
    soakErrors: { value: soak.errors.total, target: 0, unit: "errors (non-2xx, resets, timeouts)", met: soak.errors.total === 0 },
  };
}

/** Run on its own: measure, then update only the soak's entries of bench/results.json. */
async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const soak = await measureProxySoak(root);
  if (soak === null) throw new Error("examples/add_header/build/add_header.wasm is missing: run `npm run build` first");
  const path = join(root, "bench", "results.json");
  const results = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>) : {};
  const targets = soakTargets(soak);
  results.soak = { measuredAt: new Date().toISOString(), ...soak };
  results.targets = { ...(results.targets as object | undefined), ...targets };
  writeFileSync(path, JSON.stringify(results, null, 2) + "\n");
  for (const [name, t] of Object.entries(targets)) console.log(`  ${t.met ? "✓" : "✗"} ${name}: ${t.value} (target ${t.target} ${t.unit})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
