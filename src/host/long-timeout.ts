/**
 * Timers that honour any delay the ABI and the configuration allow.
 *
 * Node's `setTimeout` holds at most 2^31-1 ms (about 24.8 days): a longer delay is replaced by
 * 1 ms with a `TimeoutOverflowWarning`, so `proxy_set_tick_period_milliseconds(0xffffffff)`
 * would tick every millisecond. Envoy keeps such delays as `std::chrono::milliseconds`
 * (proxy-wasm-cpp-host src/exports.cc set_tick_period_milliseconds, envoy
 * source/extensions/common/wasm/context.cc setTimerPeriod, and the router's route timeout),
 * so 0xffffffff ms is about 49.7 days there. A long timeout here is a chain of Node timers,
 * each at most 2^31-1 ms, that fires once the whole delay has passed.
 */

/** The longest delay one Node timer holds without overflowing. */
export const MAX_NODE_TIMER_MS = 2 ** 31 - 1;

/** The Node timer functions a long timeout chains; replaceable for tests with fake time. */
export interface TimerFunctions {
  setTimeout(fire: () => void, delayMs: number): { unref?(): unknown; ref?(): unknown };
  clearTimeout(timer: unknown): void;
}

const NODE_TIMERS: TimerFunctions = {
  setTimeout: (fire, delayMs) => setTimeout(fire, delayMs),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/**
 * One pending timeout of any length. `cancel` is legal at any time and does nothing once the
 * timeout fired or was cancelled.
 */
export class LongTimeout {
  private timer: ReturnType<TimerFunctions["setTimeout"]> | undefined;
  private remainingMs: number;
  private referenced = true;

  /**
   * Arms a timeout that calls `fire` once after `delayMs`. A delay that is negative or NaN is 0
   * (as Node takes it); `Infinity` never fires; a fraction is rounded up, so it never fires early.
   */
  constructor(
    delayMs: number,
    private readonly fire: () => void,
    private readonly timers: TimerFunctions = NODE_TIMERS,
  ) {
    this.remainingMs = Number.isNaN(delayMs) || delayMs < 0 ? 0 : Math.ceil(delayMs);
    this.arm();
  }

  /** True until the timeout fired or was cancelled. */
  get pending(): boolean {
    return this.timer !== undefined || this.remainingMs === Infinity;
  }

  /** Stops the timeout; `fire` is not called. */
  cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.remainingMs = 0;
  }

  /** Lets the process exit while only this timeout is pending (as Node's `unref`); returns itself. */
  unref(): this {
    this.referenced = false;
    this.timer?.unref?.();
    return this;
  }

  private arm(): void {
    if (this.remainingMs === Infinity) return;
    const step = Math.min(this.remainingMs, MAX_NODE_TIMER_MS);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.remainingMs -= step;
      if (this.remainingMs > 0) return this.arm();
      this.fire();
    }, step);
    if (!this.referenced) this.timer.unref?.();
  }
}

/** Calls `fire` once after `delayMs` (any length; see LongTimeout); returns the handle to cancel it. */
export function setLongTimeout(delayMs: number, fire: () => void): LongTimeout {
  return new LongTimeout(delayMs, fire);
}
