/**
 * What a fuzz run found, and its one-line summary. Every count but hostcalls and streams must be 0.
 */

export type FindingKind = "host exception" | "process death" | "hang" | "disabled filter";

/** One fault, with what is needed to replay it. */
export interface FuzzFinding {
  readonly kind: FindingKind;
  readonly mode: "kit" | "proxy";
  /** The run's seed and the session (kit) or request (proxy) index: `--seed S --session N` replays it. */
  readonly seed: number;
  readonly session: number;
  /** What the driver was doing (e.g. `http#3 request body 17 bytes end_of_stream=1`). */
  readonly step: string;
  /** The error, the VM failure report or the hang's description. */
  readonly detail: string;
  /** The callback that was running and the filter's last hostcalls with their arguments (newest first), when known. */
  readonly callback?: string;
  readonly lastHostcall?: string;
}

export class FuzzTotals {
  hostcalls = 0;
  streams = 0;
  hostExceptions = 0;
  processDeaths = 0;
  hangs = 0;
  disabledFilters = 0;
  readonly findings: FuzzFinding[] = [];

  constructor(readonly seed: number) {}

  record(finding: FuzzFinding): void {
    if (finding.kind === "host exception") this.hostExceptions++;
    else if (finding.kind === "process death") this.processDeaths++;
    else if (finding.kind === "hang") this.hangs++;
    else this.disabledFilters++;
    // Keep the first few of each kind: enough to reproduce, bounded in memory.
    if (this.findings.filter((f) => f.kind === finding.kind).length < 20) this.findings.push(finding);
  }

  add(other: FuzzTotals): void {
    this.hostcalls += other.hostcalls;
    this.streams += other.streams;
    this.hostExceptions += other.hostExceptions;
    this.processDeaths += other.processDeaths;
    this.hangs += other.hangs;
    this.disabledFilters += other.disabledFilters;
    for (const finding of other.findings) if (this.findings.length < 80) this.findings.push(finding);
  }

  get faults(): number {
    return this.hostExceptions + this.processDeaths + this.hangs + this.disabledFilters;
  }

  /** `fuzz: seed S, N hostcalls, N streams, host exceptions 0, process deaths 0, hangs 0, disabled filters 0` */
  summary(): string {
    return `fuzz: seed ${this.seed}, ${this.hostcalls} hostcalls, ${this.streams} streams, host exceptions ${this.hostExceptions}, process deaths ${this.processDeaths}, hangs ${this.hangs}, disabled filters ${this.disabledFilters}`;
  }

  /** One block per finding: kind, replay command, step, callback, last hostcall, detail. */
  describeFindings(): string {
    return this.findings
      .map((f) => {
        const lines = [
          `- ${f.kind} (${f.mode}): replay with \`npm run fuzz -- --mode=${f.mode} --seed ${f.seed} --session ${f.session}\``,
          `  step: ${f.step}`,
        ];
        if (f.callback !== undefined) lines.push(`  callback: ${f.callback}`);
        if (f.lastHostcall !== undefined) lines.push(`  last hostcalls: ${f.lastHostcall}`);
        lines.push(...f.detail.split("\n").slice(0, 12).map((line) => `  | ${line}`));
        return lines.join("\n");
      })
      .join("\n");
  }
}

/** A small seeded PRNG for the drivers (mulberry32): the same seed plays the same run. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** Random bytes drawn mostly from hostile header bytes (CR, LF, NUL, SP, colon, invalid UTF-8). */
  hostileBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.chance(0.3) ? this.pick(HOSTILE_BYTES) : 0x61 + this.below(26);
    return out;
  }
}

const HOSTILE_BYTES = [0x0d, 0x0a, 0x00, 0x20, 0x3a, 0x09, 0x7f, 0x80, 0xc0, 0xff, 0xfe, 0xe2, 0x2c, 0x3b, 0x22];

/** A session's seed from the run's seed and the session index, so one session can be replayed alone. */
export function sessionSeed(seed: number, session: number): number {
  let h = (seed ^ Math.imul(session + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
