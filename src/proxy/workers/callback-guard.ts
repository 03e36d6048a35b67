/**
 * How the main thread learns that a worker is stuck inside a filter callback. Wasm cannot be
 * interrupted on its own thread, so the worker marks, in memory both threads see, when it enters
 * and leaves work that runs Wasm (a stream event, a timer, a callout answer, a queue
 * notification); the main thread's watchdog terminates a worker whose same entry stays open
 * longer than the limit.
 *
 * Layout of the Int32Array: [0] 1 while inside, 0 otherwise; [1] sequence number of the entry.
 */
export const GUARD_SLOTS = 2;

/** Worker side: wraps every entry into Wasm. Nested entries count as one. */
export class CallbackGuard {
  private depth = 0;
  private sequence = 0;

  constructor(private readonly cells: Int32Array) {}

  run<T>(work: () => T): T {
    if (this.depth++ === 0) {
      Atomics.store(this.cells, 1, ++this.sequence | 0);
      Atomics.store(this.cells, 0, 1);
    }
    try {
      return work();
    } finally {
      if (--this.depth === 0) Atomics.store(this.cells, 0, 0);
    }
  }

  /** `fire` wrapped so that it runs under the guard. */
  wrap<A extends unknown[]>(fire: (...args: A) => void): (...args: A) => void {
    return (...args: A) => this.run(() => fire(...args));
  }
}

/**
 * Main side: `check(nowMs)` returns true once the worker has been inside the same entry for at
 * least `limitMs` (measured from the first check that saw it, so the answer errs on the late side).
 */
export class CallbackWatch {
  private seenSequence = -1;
  private seenSinceMs = 0;

  constructor(
    private readonly cells: Int32Array,
    private readonly limitMs: number,
  ) {}

  check(nowMs: number): boolean {
    if (Atomics.load(this.cells, 0) === 0) {
      this.seenSequence = -1;
      return false;
    }
    const sequence = Atomics.load(this.cells, 1);
    if (sequence !== this.seenSequence) {
      this.seenSequence = sequence;
      this.seenSinceMs = nowMs;
      return false;
    }
    return nowMs - this.seenSinceMs >= this.limitMs;
  }
}
