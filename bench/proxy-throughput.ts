/**
 * Requests per second through the dev proxy with the add_header filter, through the same proxy
 * with no filter, and through a plain Node reverse proxy, measured in one run with autocannon on
 * keep-alive connections against one tiny upstream. The filter's cost is the throughput it takes
 * from the proxy: (1 - rps(add_header) / rps(no filter)) * 100.
 *
 * Every proxy under test and the upstream run in their own child process, so none of them shares
 * an event loop with the load generator (autocannon, in this process) or with each other. The
 * proxies are started afresh for each of several forks; each fork warms them up, then every
 * round measures the three back to back, and the median of the forks' median costs is reported.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { join } from "node:path";
import { median, medianInterval } from "./median-interval";

export interface ProxyThroughput {
  /** Median over the forks of each fork's median (1 - withAddHeader / withoutFilter) * 100. */
  filterCostPercent: number;
  /** Every round's cost, in measurement order. */
  roundCostsPercent: number[];
  /** Each fork's median cost. */
  forkCostsPercent: number[];
  /** 95 % bootstrap interval of `filterCostPercent` (from the fork costs). */
  filterCostInterval95Percent: [number, number];
  /** Median requests per second over the rounds. */
  rps: { withAddHeader: number; withoutFilter: number; plainNodeProxy: number };
  /** withAddHeader / withoutFilter, and withoutFilter / plainNodeProxy. */
  ratios: { addHeaderToNoFilter: number; noFilterToPlainNode: number };
  /** Every round's rps, in measurement order. */
  roundsRps: Array<{ withAddHeader: number; withoutFilter: number; plainNodeProxy: number }>;
  seconds: number;
  warmupSeconds: number;
  forks: number;
  /** Rounds per fork. */
  rounds: number;
  connections: number;
  pipelining: number;
  note: string;
  [key: string]: unknown;
}

interface AutocannonResult {
  requests: { average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; pipelining: number }) => Promise<AutocannonResult>;

const CONNECTIONS = 10;
const PIPELINING = 1;

/** The upstream: answers every request `200 ok`, keep-alive. Prints its URL on stdout. */
export const UPSTREAM_SCRIPT = `
import { createServer } from "node:http";
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + server.address().port));
`;

/** The baseline: a reverse proxy in plain node:http with a keep-alive agent, no filter machinery. */
const PLAIN_PROXY_SCRIPT = `
import { Agent, createServer, request } from "node:http";
const target = new URL(process.argv[1]);
const agent = new Agent({ keepAlive: true });
const server = createServer((req, res) => {
  const upstreamRequest = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
    (upstreamResponse) => {
      res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      upstreamResponse.pipe(res);
    },
  );
  upstreamRequest.on("error", () => { res.writeHead(502); res.end(); });
  req.pipe(upstreamRequest);
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + server.address().port));
`;

/** A child process serving HTTP, and the URL it printed once listening. */
export interface ServingChild {
  url: string;
  /** The child's process id (its resident set is what the soak samples). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `args` with node and waits for its first `listening on http://…` line. Rejects with the
 * child's stderr when it exits first or does not print it within 60 s.
 */
export function startServingChild(label: string, args: string[], cwd: string): Promise<ServingChild> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`${label}: no "listening on" line within 60 s\n${stderr}`)), 60_000);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/[0-9.]+:\d+)/.exec(stdout);
      if (match === null || settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        url: match[1],
        pid: child.pid ?? 0,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
            // A child that ignores SIGTERM is not allowed to hang the bench.
            setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
          }),
      });
    });
    child.once("exit", (code, signal) => fail(new Error(`${label} exited (${code ?? signal}) before listening\n${stderr}`)));
  });
}

/**
 * Measures the three targets. Returns null when the add_header example is not built.
 *
 * Like a JVM benchmark harness, the run is split into forks: every fork starts each proxy afresh,
 * because how V8 happens to optimise a process (which call sites end up megamorphic, for one)
 * differs from process to process and moves its throughput by several percent for its whole
 * life. A fork warms each target up, then measures `rounds` rounds; the result is the median of
 * the forks' median costs.
 *
 * `BENCH_PROXY_FORKS` (default 10) forks, `BENCH_PROXY_ROUNDS` (default 2) rounds per fork,
 * `BENCH_PROXY_SECONDS` (default 3) per measurement, `BENCH_PROXY_WARMUP_SECONDS` (default 2)
 * per target and fork; `BENCH_PROXY_CPU_PROF=<dir>` runs the add_header proxies under
 * `--cpu-prof` writing there.
 * Throws when a target answers anything but 2xx or errors under load.
 */
export async function measureProxyThroughput(root: string): Promise<ProxyThroughput | null> {
  const wasmPath = join(root, "examples", "add_header", "build", "add_header.wasm");
  if (!existsSync(wasmPath)) return null;
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
  const count = (name: string, fallback: number): number => Math.max(1, Math.floor(Number(process.env[name] ?? fallback)));
  const seconds = Math.max(1, Number(process.env.BENCH_PROXY_SECONDS ?? 3));
  const forks = count("BENCH_PROXY_FORKS", 10);
  const rounds = count("BENCH_PROXY_ROUNDS", 2);
  const warmupSeconds = Math.max(1, Number(process.env.BENCH_PROXY_WARMUP_SECONDS ?? 2));
  const profileDir = process.env.BENCH_PROXY_CPU_PROF;
  const cli = join(root, "bin", "proxy-wasm-as.js");

  const run = async (url: string, duration: number): Promise<number> => {
    const result = await autocannon({ url, connections: CONNECTIONS, duration, pipelining: PIPELINING });
    if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
      throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts under load`);
    }
    return result.requests.average;
  };

  const upstream = await startServingChild("upstream", ["--input-type=module", "-e", UPSTREAM_SCRIPT], root);
  const roundsRps: ProxyThroughput["roundsRps"] = [];
  const forkCosts: number[] = [];
  try {
    for (let fork = 0; fork < forks; fork++) {
      const forkRounds = await measureFork(fork);
      roundsRps.push(...forkRounds);
      forkCosts.push(median(forkRounds.map(costOf)));
    }
  } finally {
    await upstream.stop();
  }

  /** One fork: fresh proxies, a warm-up per target, then `rounds` rounds. */
  async function measureFork(fork: number): Promise<ProxyThroughput["roundsRps"]> {
    const children: ServingChild[] = [];
    try {
      const devProxyArgs = ["run", "--listen", "127.0.0.1:0", "--admin", "off", "--log-level", "error", "--upstream", upstream.url];
      const profile = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
      const start = async (label: string, args: string[]): Promise<ServingChild> => {
        const child = await startServingChild(label, args, root);
        children.push(child);
        return child;
      };
      const targets = {
        withAddHeader: await start("dev proxy with add_header", [
          ...profile, cli, ...devProxyArgs, "--wasm", wasmPath, "--name", "add_header", "--plugin-config", JSON.stringify({ name: "x-bench", value: "yes" }),
        ]),
        withoutFilter: await start("dev proxy without filter", [cli, ...devProxyArgs]),
        plainNodeProxy: await start("plain node proxy", ["--input-type=module", "-e", PLAIN_PROXY_SCRIPT, upstream.url]),
      };
      const names = Object.keys(targets) as Array<keyof typeof targets>;
      // JIT tiers, the VM and the upstream connection pools settle before anything is measured.
      for (const name of names) await run(targets[name].url, warmupSeconds);
      // Short slices, the three targets back to back and in a rotated order each round: load from
      // elsewhere on a shared machine drifts over seconds, so targets measured side by side see the
      // same machine, and no target is always first or last.
      const measured: ProxyThroughput["roundsRps"] = [];
      for (let round = 0; round < rounds; round++) {
        const rps = { withAddHeader: 0, withoutFilter: 0, plainNodeProxy: 0 };
        for (let i = 0; i < names.length; i++) {
          const name = names[(i + round + fork) % names.length];
          rps[name] = await run(targets[name].url, seconds);
        }
        measured.push(rps);
      }
      return measured;
    } finally {
      for (const child of children.reverse()) await child.stop();
    }
  }

  const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
  const withAddHeader = median(roundsRps.map((r) => r.withAddHeader));
  const withoutFilter = median(roundsRps.map((r) => r.withoutFilter));
  const plainNodeProxy = median(roundsRps.map((r) => r.plainNodeProxy));
  // The forks are the independent trials (rounds within a fork share its processes' JIT state),
  // so the result is the median of the forks' medians.
  const roundCosts = roundsRps.map(costOf);
  return {
    filterCostPercent: round(median(forkCosts)),
    forkCostsPercent: forkCosts.map((cost) => round(cost)),
    filterCostInterval95Percent: medianInterval(forkCosts).map((bound) => round(bound)) as [number, number],
    roundCostsPercent: roundCosts.map((cost) => round(cost)),
    rps: { withAddHeader: round(withAddHeader), withoutFilter: round(withoutFilter), plainNodeProxy: round(plainNodeProxy) },
    ratios: { addHeaderToNoFilter: round(withAddHeader / withoutFilter, 3), noFilterToPlainNode: round(withoutFilter / plainNodeProxy, 3) },
    roundsRps: roundsRps.map((r) => ({ withAddHeader: round(r.withAddHeader), withoutFilter: round(r.withoutFilter), plainNodeProxy: round(r.plainNodeProxy) })),
    seconds,
    warmupSeconds,
    forks,
    rounds,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    note:
      `autocannon (${CONNECTIONS} keep-alive connections, pipelining ${PIPELINING}) in the bench process; each proxy and the upstream in its own ` +
      `child process; ${forks} forks, each starting every proxy afresh, warming each up for ${warmupSeconds} s, then ${rounds} rounds of ${seconds} s ` +
      `per target, back to back in a rotated order; a round's cost is 1 - add_header / no filter (measured side by side), ` +
      `forkCostsPercent each fork's median round, filterCostPercent the median of the forks and filterCostInterval95Percent ` +
      `its 95 % bootstrap interval over the forks. The dev proxy runs the filter on the listener's thread (--concurrency 1, ` +
      `the default) with the callback time limit on. Machine: ${cpus().length} cores shared by the load generator, the upstream and the ` +
      `proxy under test (and other users), so absolute rps are low and noisy; the ratios are the result.`,
  };
}

/** A round's filter cost in percent: the throughput add_header takes from the same proxy without it. */
function costOf(rps: { withAddHeader: number; withoutFilter: number }): number {
  return (1 - rps.withAddHeader / rps.withoutFilter) * 100;
}
