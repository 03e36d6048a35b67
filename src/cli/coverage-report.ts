/**
 * The coverage report of `proxy-wasm-as test --coverage`: joins the maps a coverage build wrote
 * (transform/coverage.mjs: map-<key>.json, where each point is) with the hit counts the test
 * processes wrote (src/host/coverage-hits.ts: hits-*.json), per file of the project's own
 * AssemblyScript, as lcov (for editors and CI services) and as a text summary.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface MapPoint {
  readonly id: number;
  readonly file: string;
  readonly line: number;
  readonly kind: "line" | "branch";
  readonly block?: number;
  readonly branch?: number;
}

interface CoverageMap {
  readonly key: string;
  readonly points: readonly MapPoint[];
}

export interface BranchCoverage {
  readonly line: number;
  readonly block: number;
  readonly branch: number;
  readonly hits: number;
}

export interface FileCoverage {
  readonly file: string;
  /** line -> hits (the most any statement starting on it ran). */
  readonly lines: ReadonlyMap<number, number>;
  readonly branches: readonly BranchCoverage[];
}

/** Reads every map and hit file in `dir`; files sorted by path. Throws when there is no map. */
export function readCoverage(dir: string): FileCoverage[] {
  const names = readdirSync(dir).sort();
  const maps = names.filter((n) => /^map-.*\.json$/.test(n)).map((n) => JSON.parse(readFileSync(join(dir, n), "utf8")) as CoverageMap);
  if (maps.length === 0) throw new Error(`no coverage map in ${dir}: the module was not built for coverage`);
  const hits = new Map<string, Map<number, number>>();
  for (const name of names.filter((n) => /^hits-.*\.json$/.test(n))) {
    const counts = JSON.parse(readFileSync(join(dir, name), "utf8")) as Record<string, Record<string, number>>;
    for (const [key, points] of Object.entries(counts)) {
      let perPoint = hits.get(key);
      if (perPoint === undefined) hits.set(key, (perPoint = new Map()));
      for (const [id, count] of Object.entries(points)) perPoint.set(Number(id), (perPoint.get(Number(id)) ?? 0) + count);
    }
  }
  const files = new Map<string, { lines: Map<number, number>; branches: BranchCoverage[] }>();
  let blockBase = 0;
  for (const map of maps) {
    const counts = hits.get(map.key) ?? new Map<number, number>();
    let blocks = 0;
    for (const point of map.points) {
      let file = files.get(point.file);
      if (file === undefined) files.set(point.file, (file = { lines: new Map(), branches: [] }));
      const count = counts.get(point.id) ?? 0;
      if (point.kind === "line") {
        file.lines.set(point.line, Math.max(file.lines.get(point.line) ?? 0, count));
      } else {
        file.branches.push({ line: point.line, block: blockBase + point.block!, branch: point.branch!, hits: count });
        blocks = Math.max(blocks, point.block! + 1);
      }
    }
    blockBase += blocks;
  }
  return [...files.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([file, data]) => ({ file, ...data }));
}

/** lcov tracefile text (SF paths as the compiler saw them: relative to the project). */
export function toLcov(files: readonly FileCoverage[]): string {
  let out = "";
  for (const file of files) {
    out += `TN:\nSF:${file.file}\n`;
    const lines = [...file.lines.entries()].sort(([a], [b]) => a - b);
    for (const [line, hits] of lines) out += `DA:${line},${hits}\n`;
    out += `LF:${lines.length}\nLH:${lines.filter(([, hits]) => hits > 0).length}\n`;
    for (const b of file.branches) out += `BRDA:${b.line},${b.block},${b.branch},${b.hits}\n`;
    out += `BRF:${file.branches.length}\nBRH:${file.branches.filter((b) => b.hits > 0).length}\n`;
    out += "end_of_record\n";
  }
  return out;
}

function ratio(covered: number, total: number): string {
  const percent = total === 0 ? "100.0" : ((covered * 100) / total).toFixed(1);
  return `${covered}/${total} (${percent}%)`;
}

/** "3, 7-9": the line numbers, consecutive ones as ranges. */
export function lineRanges(lines: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j] + 1) j++;
    parts.push(i === j ? `${lines[i]}` : `${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

/** One line per file and a total: lines and branches run, and the lines that never ran. */
export function toTextSummary(files: readonly FileCoverage[]): string {
  const rows: string[][] = [];
  let lineTotal = 0, lineHit = 0, branchTotal = 0, branchHit = 0;
  for (const file of files) {
    const lines = [...file.lines.entries()].sort(([a], [b]) => a - b);
    const hit = lines.filter(([, hits]) => hits > 0).length;
    const branchesHit = file.branches.filter((b) => b.hits > 0).length;
    const missed = lines.filter(([, hits]) => hits === 0).map(([line]) => line);
    rows.push([file.file, `lines ${ratio(hit, lines.length)}`, `branches ${ratio(branchesHit, file.branches.length)}`, missed.length > 0 ? `not run: ${lineRanges(missed)}` : ""]);
    lineTotal += lines.length;
    lineHit += hit;
    branchTotal += file.branches.length;
    branchHit += branchesHit;
  }
  rows.push(["all files", `lines ${ratio(lineHit, lineTotal)}`, `branches ${ratio(branchHit, branchTotal)}`, ""]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => `  ${r.slice(0, 3).map((cell, c) => cell.padEnd(widths[c])).join("  ")}${r[3] ? `  ${r[3]}` : ""}`.trimEnd() + "\n").join("");
}
