/**
 * Time and deferred work for the host. Envoy runs everything on a dispatcher: timers fire later,
 * queue notifications are posted to run after the current callback. The host never runs such work
 * re-entrantly; it hands it to a Scheduler. Tests use ManualScheduler (a fake clock with explicit
 * advancing and flushing); the dev proxy uses RealScheduler.
 */

import { LongTimeout } from "./long-timeout";

export interface TimerHandle {
  readonly id: number;
}

export interface Scheduler {
  /** Wall-clock time in nanoseconds since the Unix epoch. */
  nowNanos(): bigint;
  /**
   * Optional: the same time as `nowNanos` in whole milliseconds, `Number(nowNanos() / 1_000_000n)`
   * exactly, for clocks that can give it without BigInt arithmetic (the stream drivers read the
   * clock on every request). When absent, callers compute it from `nowNanos`.
   */
  nowMillis?(): number;
  /** Monotonic time in nanoseconds (arbitrary origin). */
  monotonicNanos(): bigint;
  /** Runs `fire` once after `delayMs`. */
  setTimer(delayMs: number, fire: () => void): TimerHandle;
  cancelTimer(handle: TimerHandle): void;
  /** Runs `task` soon, never inside the current call stack. */
  post(task: () => void): void;
}

/** Wall-clock milliseconds of `scheduler`, as `Number(nowNanos() / 1_000_000n)`. */
export function wallClockMs(scheduler: Scheduler): number {
  return scheduler.nowMillis !== undefined ? scheduler.nowMillis() : Number(scheduler.nowNanos() / 1_000_000n);
}

interface PendingTimer {
  handle: TimerHandle;
  dueMs: number;
  fire: () => void;
}

/**
 * Exact nanoseconds for a millisecond time. Multiplying first in floating point would lose the
 * low digits of present-day epoch times (about 1.7e18 ns, beyond 2^53), so a clock at a whole
 * millisecond would read e.g. `.750000128` s instead of `.750` s.
 */
function millisecondsToNanos(ms: number): bigint {
  const wholeMs = Math.floor(ms);
  return BigInt(wholeMs) * 1_000_000n + BigInt(Math.round((ms - wholeMs) * 1e6));
}

/**
 * A fake clock: time moves only through `advance`, posted work runs only through `runPosted`.
 * Deterministic by construction.
 */
export class ManualScheduler implements Scheduler {
  private nowMs: number;
  private readonly originMs: number;
  private timers: PendingTimer[] = [];
  private posted: (() => void)[] = [];
  private nextId = 1;

  /** @param startMs wall-clock start, default 2024-01-01T00:00:00Z so logs are reproducible. */
  constructor(startMs = Date.UTC(2024, 0, 1)) {
    this.nowMs = startMs;
    this.originMs = startMs;
  }

  nowNanos(): bigint {
    return millisecondsToNanos(this.nowMs);
  }

  monotonicNanos(): bigint {
    return millisecondsToNanos(this.nowMs - this.originMs);
  }

  /** Current fake wall-clock time in milliseconds. */
  get now(): number {
    return this.nowMs;
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const handle = { id: this.nextId++ };
    this.timers.push({ handle, dueMs: this.nowMs + Math.max(0, delayMs), fire });
    return handle;
  }

  cancelTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.handle !== handle);
  }

  post(task: () => void): void {
    this.posted.push(task);
  }

  /** Number of posted tasks waiting for `runPosted`. */
  get pendingPosted(): number {
    return this.posted.length;
  }

  /** Runs posted tasks (and the tasks they post) until none are left; returns how many ran. */
  runPosted(): number {
    let ran = 0;
    while (this.posted.length > 0) {
      const task = this.posted.shift()!;
      task();
      ran++;
    }
    return ran;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in due order, each at its own
   * time (a timer re-armed by a tick fires again within the same advance if it falls due).
   */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.timers) if (t.dueMs <= target && (next === undefined || t.dueMs < next.dueMs)) next = t;
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.fire();
    }
    this.nowMs = target;
  }
}

/** Real time: Node timers and `setImmediate`. For the dev proxy. */
export class RealScheduler implements Scheduler {
  private readonly timers = new Map<number, LongTimeout>();
  private nextId = 1;

  nowNanos(): bigint {
    return BigInt(Date.now()) * 1_000_000n;
  }

  nowMillis(): number {
    return Date.now();
  }

  monotonicNanos(): bigint {
    return process.hrtime.bigint();
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const handle = { id: this.nextId++ };
    // A tick period or timeout may be any uint32 of milliseconds, past what one Node timer holds.
    const timer = new LongTimeout(delayMs, () => {
      this.timers.delete(handle.id);
      fire();
    }).unref();
    this.timers.set(handle.id, timer);
    return handle;
  }

  cancelTimer(handle: TimerHandle): void {
    const timer = this.timers.get(handle.id);
    timer?.cancel();
    this.timers.delete(handle.id);
  }

  post(task: () => void): void {
    setImmediate(task);
  }
}
