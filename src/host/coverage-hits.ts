/**
 * Hit counts of coverage builds. A module built with transform/coverage.mjs (only by
 * `proxy-wasm-as test --coverage`) calls `proxy_wasm_as_coverage.<build key>(id)` at each of its
 * coverage points. When PROXY_WASM_AS_COVERAGE names a folder, this host links that import and
 * counts the calls; when the process exits it writes them there as
 * `hits-<pid>-<thread>-<n>.json` ({ "<build key>": { "<id>": count } }), one file per process, so
 * as-pect and every `node --test` process add theirs.
 *
 * Without the variable nothing is linked and such a module is refused with cpp-host's "missing
 * import" message, as Envoy would refuse it: coverage builds are for tests only.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import type { ExtraHostFunction } from "./module/check-module";
import type { ModuleImport } from "./module/module-info";

/** The environment variable naming the folder for coverage maps and hit counts. */
export const COVERAGE_ENV = "PROXY_WASM_AS_COVERAGE";
/** The import module of the hit counters (transform/coverage.mjs declares it). */
export const COVERAGE_IMPORT_MODULE = "proxy_wasm_as_coverage";

type HitCounter = (id: number) => void;

export class CoverageHits {
  /** build key -> point id -> hits */
  private readonly counts = new Map<string, Map<number, number>>();

  constructor(readonly dir: string) {
    process.once("exit", () => this.flush());
  }

  /** The counter a module built with `key` calls. */
  counter(key: string): HitCounter {
    let perPoint = this.counts.get(key);
    if (perPoint === undefined) this.counts.set(key, (perPoint = new Map()));
    const points = perPoint;
    return (id: number) => {
      points.set(id, (points.get(id) ?? 0) + 1);
    };
  }

  /** Writes the counts so far (nothing when there are none) and starts counting afresh. */
  flush(): void {
    if (this.counts.size === 0) return;
    const out: Record<string, Record<string, number>> = {};
    for (const [key, points] of this.counts) out[key] = Object.fromEntries(points);
    this.counts.clear();
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, `hits-${process.pid}-${threadId}-${randomBytes(4).toString("hex")}.json`), JSON.stringify(out));
  }
}

let active: CoverageHits | null = null;

/** The process's hit counts while PROXY_WASM_AS_COVERAGE is set, else null. */
export function coverageHits(): CoverageHits | null {
  const dir = process.env[COVERAGE_ENV];
  if (!dir) return null;
  if (active?.dir !== dir) {
    active?.flush();
    active = new CoverageHits(dir);
  }
  return active;
}

function isCounterImport(entry: ModuleImport): boolean {
  return entry.module === COVERAGE_IMPORT_MODULE && entry.kind === "function";
}

/** The counters a module imports, as host functions the load check accepts (coverage on only). */
export function coverageHostFunctions(imports: readonly ModuleImport[]): ExtraHostFunction[] {
  if (coverageHits() === null) return [];
  return imports.filter(isCounterImport).map((entry) => ({ module: entry.module, name: entry.name, signature: { params: ["i32"], results: [] } }));
}

/** The import object part for a module's counters, or null when it has none or coverage is off. */
export function coverageImports(imports: readonly ModuleImport[]): Record<string, HitCounter> | null {
  const hits = coverageHits();
  const counters = imports.filter(isCounterImport);
  if (hits === null || counters.length === 0) return null;
  return Object.fromEntries(counters.map((entry) => [entry.name, hits.counter(entry.name)]));
}
