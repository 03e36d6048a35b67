// Instructions per request by valgrind's callgrind: deterministic where wall time on a shared
// machine is not. One child per module (bench/instruction-regions.ts) under
// `valgrind --tool=callgrind --dump-before=uv_os_getpriority node --single-threaded
// --predictable-gc-schedule` (V8 otherwise sizes its heap from timings, which valgrind slows
// unevenly: the same module then counted 66.5k and 70.3k instructions per request in two runs,
// and 65.9k and 66.1k with the flag) and `--no-liftoff`, as Envoy runs Wasm (proxy-wasm-cpp-host
// src/v8/v8.cc, engine(): `v8_flags.liftoff = false`, so every function is compiled by TurboFan
// at once). With Liftoff, when a function left its baseline code depended on the run: F7's floor
// counted 44.4k instructions per configure in every region of some runs and 24.5k-27.6k in
// others, its scanner still in baseline code in the first. The child
// plays `warmup` requests (JIT tiers settle), then `regions` regions of `perRegion` requests with
// an os.getPriority() marker between them, so callgrind writes one profile per region; a region's
// `totals:` line divided by its requests is that region's instructions per request. The whole
// request lifecycle is counted: the host's JS, V8 and the module's code.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface InstructionCount {
  /** Instructions per request in each region, in order. */
  regions: number[];
  /** The median region. */
  perRequest: number;
}

/** True if valgrind can be run here. */
export function callgrindAvailable(): boolean {
  return spawnSync("valgrind", ["--version"], { encoding: "utf8" }).status === 0;
}

/**
 * Counts the instructions per request of `wasmPath` playing bench shape `shapeName`. Counting is
 * deterministic whatever else the machine runs, so callers may run two counts at once (one per
 * core: bench/shape-costs.ts counts a shape's SDK module and its floor together).
 */
export async function countInstructions(wasmPath: string, shapeName: string, options: { warmup?: number; perRegion?: number; regions?: number } = {}): Promise<InstructionCount> {
  const warmup = options.warmup ?? 15_000;
  const perRegion = options.perRegion ?? 5_000;
  const regions = options.regions ?? 5;
  const dir = join(root, "bench", ".work", "callgrind", `${shapeName}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { recursive: true });
  try {
    const child = spawn("valgrind", [
      "--tool=callgrind", "--dump-before=uv_os_getpriority", `--callgrind-out-file=${join(dir, "out")}`,
      process.execPath, "--single-threaded", "--predictable-gc-schedule", "--no-liftoff", "--conditions=proxy-wasm-as-source", "--import", "tsx",
      join(root, "bench", "instruction-regions.ts"), wasmPath, shapeName, String(warmup), String(perRegion), String(regions),
    ], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => { stderr = (stderr + chunk).slice(-4000); });
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    if (status !== 0) throw new Error(`callgrind run of ${shapeName} failed (${status}):\n${stderr.slice(-2000)}`);
    // out.1 runs from start-up to the first marker; out.2 .. out.<regions + 1> are the regions.
    const counts: number[] = [];
    for (let r = 2; r <= regions + 1; r++) {
      const text = readFileSync(join(dir, `out.${r}`), "utf8");
      const totals = /^totals:\s+(\d+)/m.exec(text);
      if (!totals) throw new Error(`callgrind profile out.${r} has no totals line (files: ${readdirSync(dir).join(", ")})`);
      counts.push(Math.round(Number(totals[1]) / perRegion));
    }
    const sorted = [...counts].sort((a, b) => a - b);
    return { regions: counts, perRequest: sorted[Math.floor(sorted.length / 2)] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
