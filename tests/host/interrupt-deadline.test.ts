import { test } from "node:test";
import assert from "node:assert/strict";
import { addInterruptChecks, INTERRUPT_BUDGET_EXPORT } from "../../src/host/module/interrupt-instrumentation";
import { CallbackDeadline, DEFAULT_BUDGET_REFILL } from "../../src/host/module/interrupt-deadline";
import { compileWat } from "../fixtures/interrupt/compile-wat";

interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  readonly RuntimeError: new () => Error;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Exports = Record<string, (...args: number[]) => number>;

const RUNAWAY = `(module
  (import "env" "reenter" (func $reenter))
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "spin_with_hostcall") (loop $forever (call $reenter) (br $forever)))
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $i))
  ;; 2^n calls, no loop, stack depth n: never overflows the stack.
  (func $tree (export "tree") (param $n i32)
    (if (local.get $n) (then
      (call $tree (i32.sub (local.get $n) (i32.const 1)))
      (call $tree (i32.sub (local.get $n) (i32.const 1))))))
  ;; a tail-call cycle: no loop, constant stack
  (func $ping (export "ping") (param $n i32) (return_call $pong (i32.add (local.get $n) (i32.const 1))))
  (func $pong (param $n i32) (return_call $ping (local.get $n)))
  (func (export "own_trap") (unreachable)))`;

function instrumentedRunaway(reenter: () => void = () => {}, options?: { checkFunctionEntry?: boolean }): Exports & Record<string, unknown> {
  const bytes = addInterruptChecks(compileWat(RUNAWAY), options);
  return new wasm.Instance(new wasm.Module(bytes), { env: { reenter: () => reenter() } }).exports as Exports & Record<string, unknown>;
}

function budgetOf(exports: object): number {
  return ((exports as Record<string, unknown>)[INTERRUPT_BUDGET_EXPORT] as { value: number }).value;
}

/** Runs `call` armed with `limitMs`; returns what it threw (undefined when it returned). */
function runArmed(deadline: CallbackDeadline, limitMs: number, call: () => unknown): unknown {
  deadline.arm(limitMs);
  try {
    call();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    deadline.disarm();
  }
}

function assertStopped(error: unknown, deadline: CallbackDeadline): void {
  assert.ok(error instanceof wasm.RuntimeError, `expected a RuntimeError, got ${String(error)}`);
  assert.equal((error as Error).message, "unreachable");
  assert.equal(deadline.interrupted, true);
}

test("an infinite loop armed with 50 ms (real clock) is stopped with RuntimeError: unreachable and `interrupted`", () => {
  const exports = instrumentedRunaway();
  const deadline = new CallbackDeadline();
  deadline.attach(exports);
  assertStopped(runArmed(deadline, 50, () => exports.spin!()), deadline);
  assert.equal(deadline.armed, false);
  // Not guaranteed in general (the instance is in an unknown state), but this module has no
  // state: the next arm clears `interrupted` and another export runs normally.
  assert.equal(runArmed(deadline, 60_000, () => assert.equal(exports.count!(100_000), 100_000)), undefined);
  assert.equal(deadline.interrupted, false);
});

test("with a fake clock the stop comes at the first clock read at or past the deadline", () => {
  const exports = instrumentedRunaway();
  let time = 1000;
  const reads: number[] = [];
  // Each clock read advances 1 ms; the first read (1000) starts the 5 ms, 1001..1004 pass, 1005 stops.
  const deadline = new CallbackDeadline({ budgetRefill: 3, now: () => (reads.push(time), time++) });
  deadline.attach(exports);
  assertStopped(runArmed(deadline, 5, () => exports.spin!()), deadline);
  assert.deepEqual(reads, [1000, 1001, 1002, 1003, 1004, 1005]);
  // The budget went: 3 refill at arm, entry + 3 iterations spend it, then 4 checks per clock read.
  assert.equal(budgetOf(exports), 0);
});

test("budgetRefill 0 calls the host at every check: one per function entry and per loop iteration", () => {
  const exports = instrumentedRunaway();
  let reads = 0;
  const deadline = new CallbackDeadline({ budgetRefill: 0, now: () => (reads++, 0) });
  deadline.attach(exports);
  runArmed(deadline, 1, () => assert.equal(exports.count!(10), 10));
  // Arming reads no clock: 1 function entry + 10 loop iterations.
  assert.equal(reads, 11);
  const withoutEntry = instrumentedRunaway(undefined, { checkFunctionEntry: false });
  reads = 0;
  const second = new CallbackDeadline({ budgetRefill: 0, now: () => (reads++, 0) });
  second.attach(withoutEntry);
  runArmed(second, 1, () => withoutEntry.count!(10));
  assert.equal(reads, 10);
});

test("not armed, the check only refills: nothing is stopped and the clock is never read", () => {
  const exports = instrumentedRunaway();
  let reads = 0;
  const deadline = new CallbackDeadline({ budgetRefill: 0, now: () => (reads++, Infinity) });
  deadline.attach(exports);
  assert.equal(exports.count!(50_000), 50_000);
  assert.equal(reads, 0);
  assert.equal(deadline.interrupted, false);
});

test("nested arm/disarm (re-entrant calls): only the outermost pair sets and clears the deadline", () => {
  let time = 0;
  let exports!: Exports & Record<string, unknown>;
  const deadline = new CallbackDeadline({ budgetRefill: 0, now: () => time });
  let reentries = 0;
  exports = instrumentedRunaway(() => {
    // The host calls back into the VM (like malloc inside a hostcall) with its own arm/disarm.
    if (++reentries > 100) throw new Error("the outer deadline was lost");
    deadline.arm(1_000_000);
    try {
      exports.count!(3);
    } finally {
      deadline.disarm();
    }
    assert.equal(deadline.armed, true, "the inner disarm leaves the outer call armed");
    time += 4;
  });
  deadline.attach(exports);
  assertStopped(runArmed(deadline, 10, () => exports.spin_with_hostcall!()), deadline);
  // The inner arm's 1,000,000 ms did not replace the outer 10 ms: stopped at t >= 10, i.e. after 3 hostcalls.
  assert.equal(reentries, 3);
  assert.equal(time, 12);
});

test("a trap of the module's own is not an interruption", () => {
  const exports = instrumentedRunaway();
  const deadline = new CallbackDeadline();
  deadline.attach(exports);
  const error = runArmed(deadline, 60_000, () => exports.own_trap!());
  assert.ok(error instanceof wasm.RuntimeError);
  assert.equal((error as Error).message, "unreachable");
  assert.equal(deadline.interrupted, false);
});

test("runaway code without loops is stopped too: tree recursion and a tail-call cycle (function-entry checks)", () => {
  const exports = instrumentedRunaway();
  let time = 0;
  const deadline = new CallbackDeadline({ budgetRefill: 1000, now: () => time++ });
  deadline.attach(exports);
  assertStopped(runArmed(deadline, 20, () => exports.tree!(60)), deadline);
  assertStopped(runArmed(deadline, 20, () => exports.ping!(0)), deadline);
});

test("attach sets the budget to the refill; misuse is refused with a clear error", () => {
  const exports = instrumentedRunaway();
  const deadline = new CallbackDeadline({ budgetRefill: 77 });
  deadline.attach(exports);
  assert.equal(budgetOf(exports), 77);
  assert.throws(() => deadline.attach(exports), { message: "CallbackDeadline is already attached to an instance" });
  assert.throws(() => new CallbackDeadline().attach({ memory: {} }), {
    message: "module exports no __pwas_interrupt_budget global and __pwas_interrupt_table table: instrument it with addInterruptChecks first",
  });
  assert.throws(() => deadline.disarm(), { message: "CallbackDeadline.disarm() without arm()" });
  assert.throws(() => deadline.arm(-1), RangeError);
  assert.throws(() => deadline.arm(Number.NaN), RangeError);
  assert.throws(() => new CallbackDeadline({ budgetRefill: -1 }), RangeError);
  assert.throws(() => new CallbackDeadline({ budgetRefill: 1.5 }), RangeError);
  assert.throws(() => new CallbackDeadline({ budgetRefill: 2 ** 31 }), RangeError);
  assert.equal(DEFAULT_BUDGET_REFILL, 10_000);
});
