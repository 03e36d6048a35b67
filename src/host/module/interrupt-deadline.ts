import { INTERRUPT_BUDGET_EXPORT, INTERRUPT_TABLE_EXPORT } from "./interrupt-instrumentation";

/**
 * Budget refill: loop iterations (and function entries) between two clock reads. One call into
 * the host's check costs about 50 ns (measured on Node 20), so at 10,000 it adds under 2% to an
 * empty loop that already pays ~0.25 ns per iteration for the inlined budget check, and a stop
 * lands within about 5 µs of CPU time past the deadline on such a loop.
 */
export const DEFAULT_BUDGET_REFILL = 10_000;

interface BudgetGlobal {
  value: number;
}

interface CheckTable {
  set(index: number, value: unknown): void;
}

interface WasmApiSlice {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  readonly Global: abstract new (...args: never[]) => object;
  readonly Table: abstract new (...args: never[]) => object;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApiSlice }).WebAssembly;

/**
 * `(module (import "host" "check" (func (result i32))) (export "check" (func 0)))`: re-exporting
 * an imported JS function turns it into a wasm function, which a funcref table accepts (a plain
 * JS function cannot be stored in a table, and `WebAssembly.Function` is not available in
 * Node 20).
 */
const CHECK_WRAPPER_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // type section: [() -> i32]
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
  // import section: "host" "check" func type 0
  0x02, 0x0e, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x05, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x00, 0x00,
  // export section: "check" func 0
  0x07, 0x09, 0x01, 0x05, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x00, 0x00,
]);

let compiledWrapper: object | undefined;

function wasmCallable(check: () => number): unknown {
  compiledWrapper ??= new wasm.Module(CHECK_WRAPPER_MODULE);
  return new wasm.Instance(compiledWrapper, { host: { check } }).exports.check;
}

export interface CallbackDeadlineOptions {
  /**
   * Checks that pass without calling the host, between two clock reads. Default
   * {@link DEFAULT_BUDGET_REFILL}; 0 makes every check call the host (tests count checks so).
   */
  readonly budgetRefill?: number;
  /** Clock in milliseconds; default `performance.now`. Tests pass a fake one. */
  readonly now?: () => number;
}

/**
 * Stops a runaway callback of one instance of a module rewritten by `addInterruptChecks`, on the
 * thread that runs it. What a caller must do:
 *
 * 1. `attach(instance.exports)` once, right after instantiating (a start function has already
 *    run by then, with the module's initial budget of 2^32 - 1 checks).
 * 2. `arm(limitMs)` before calling into the module, `disarm()` in a `finally` after it. Nested
 *    arm/disarm pairs (re-entrant calls such as `malloc` from inside a hostcall) are counted,
 *    and only the outermost pair sets and clears the deadline.
 * 3. Catch the call's exception. A time-limit stop is a `WebAssembly.RuntimeError`
 *    ("unreachable") with `interrupted` true; any other exception, or the same error with
 *    `interrupted` false, is the module's own trap.
 * 4. After a stop, abandon the instance: the callback was cut off at an arbitrary loop
 *    iteration, so its memory and globals may be half-updated (a lock held, an allocator
 *    mid-update). Calls into it still execute (the next `arm` refills the budget and clears
 *    `interrupted`), but nothing guarantees their results.
 *
 * Outside arm/disarm the check never stops the module; it only refills the budget.
 */
export class CallbackDeadline {
  private readonly budgetRefill: number;
  private readonly now: () => number;
  private budget: BudgetGlobal | undefined;
  private depth = 0;
  /** When the running call must stop; NaN until the call's first clock read. */
  private deadline = NaN;
  private limitMs = 0;
  private stopped = false;

  constructor(options: CallbackDeadlineOptions = {}) {
    const refill = options.budgetRefill ?? DEFAULT_BUDGET_REFILL;
    if (!Number.isInteger(refill) || refill < 0 || refill > 0x7fffffff) {
      throw new RangeError(`budgetRefill must be an integer in [0, 2^31 - 1], got ${refill}`);
    }
    this.budgetRefill = refill;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Installs the check into the instance's interrupt table and sets its budget. Legal once per
   * deadline.
   *
   * @throws Error when already attached, or when `exports` lacks the interrupt global or table
   *   (the module was not rewritten by `addInterruptChecks`).
   */
  attach(exports: Record<string, unknown>): void {
    if (this.budget !== undefined) throw new Error("CallbackDeadline is already attached to an instance");
    const budget = exports[INTERRUPT_BUDGET_EXPORT];
    const table = exports[INTERRUPT_TABLE_EXPORT];
    if (!(budget instanceof wasm.Global) || !(table instanceof wasm.Table)) {
      throw new Error(`module exports no ${INTERRUPT_BUDGET_EXPORT} global and ${INTERRUPT_TABLE_EXPORT} table: instrument it with addInterruptChecks first`);
    }
    (table as unknown as CheckTable).set(0, wasmCallable(this.check));
    this.budget = budget as unknown as BudgetGlobal;
    this.budget.value = this.budgetRefill;
  }

  /**
   * Starts the time limit for the outermost call: the module stops at the first check at least
   * `limitMs` milliseconds after the call's first clock read. Nested calls only count the depth.
   * Clears `interrupted`.
   *
   * Arming reads no clock and touches no wasm global, because the host arms every callback (each
   * request makes several): the clock starts at the first check instead, so a stop comes late by
   * at most the time the module takes for one budget of checks (microseconds for a plain loop).
   */
  arm(limitMs: number): void {
    if (this.depth++ > 0) return;
    if (!(limitMs >= 0)) {
      this.depth--;
      throw new RangeError(`time limit must be a non-negative number of ms, got ${limitMs}`);
    }
    this.stopped = false;
    this.limitMs = limitMs;
    this.deadline = NaN;
  }

  /**
   * Ends the call started by the matching `arm`. After the outermost one the module is not
   * stopped any more; `interrupted` keeps its value until the next outermost `arm`.
   *
   * @throws Error when not armed (a disarm without its arm is a bug in the caller).
   */
  disarm(): void {
    if (this.depth === 0) throw new Error("CallbackDeadline.disarm() without arm()");
    --this.depth;
  }

  /** True while between an outermost arm and its disarm. */
  get armed(): boolean {
    return this.depth > 0;
  }

  /** True when the check told the module to stop, from then until the next outermost `arm`. */
  get interrupted(): boolean {
    return this.stopped;
  }

  /** Called by the module when its budget is spent: 1 = stop (the module traps), 0 = go on. */
  private readonly check = (): number => {
    if (this.depth > 0) {
      const now = this.now();
      if (Number.isNaN(this.deadline)) this.deadline = now + this.limitMs;
      else if (now >= this.deadline) {
        this.stopped = true;
        return 1;
      }
    }
    this.budget!.value = this.budgetRefill;
    return 0;
  };
}
