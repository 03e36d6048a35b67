import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  addInterruptChecks,
  INITIAL_INTERRUPT_BUDGET,
  INTERRUPT_BUDGET_EXPORT,
  INTERRUPT_TABLE_EXPORT,
} from "../../src/host/module/interrupt-instrumentation";
import { InterruptInstrumentationError } from "../../src/host/module/interrupt-instrumentation-error";
import { WasmParseError } from "../../src/host/module/wasm-parse-error";
import { parseWasmBinary } from "../../src/host/module/wasm-binary";
import { CallbackDeadline } from "../../src/host/module/interrupt-deadline";
import { createTestHost } from "../../src/testing";
import { compileWat, compileWatFixture } from "../fixtures/interrupt/compile-wat";

interface Descriptor {
  readonly module?: string;
  readonly name: string;
  readonly kind: string;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  readonly Module: {
    new (bytes: Uint8Array): object;
    exports(module: object): Descriptor[];
    imports(module: object): Descriptor[];
    customSections(module: object, name: string): ArrayBuffer[];
  };
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => object;
  readonly Table: new (descriptor: { element: string; initial: number }) => { get(i: number): unknown; set(i: number, v: unknown): void; length: number };
  readonly Global: new (descriptor: { value: string; mutable?: boolean }, value: number) => { value: number };
  readonly RuntimeError: new () => Error;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Exports = Record<string, (...args: number[]) => number>;

function featureImports(): Record<string, Record<string, unknown>> {
  const table = new wasm.Table({ element: "anyfunc", initial: 3 });
  return {
    env: {
      log: () => {},
      base: new wasm.Global({ value: "i32" }, 30_000),
      counter: new wasm.Global({ value: "i32", mutable: true }, 3),
      table,
    },
  };
}

function instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  return new wasm.Instance(new wasm.Module(bytes), imports).exports;
}

/** The 22-byte check of a module whose budget global, check type and table indices are all < 128. */
function checkPattern(budgetGlobal: number, checkType: number, checkTable: number): number[] {
  return [0x23, budgetGlobal, 0x04, 0x40, 0x23, budgetGlobal, 0x41, 0x01, 0x6b, 0x24, budgetGlobal, 0x05, 0x41, 0x00, 0x11, checkType, checkTable, 0x04, 0x40, 0x00, 0x0b, 0x0b];
}

function countOccurrences(bytes: Uint8Array, pattern: readonly number[]): number {
  let count = 0;
  outer: for (let i = 0; i + pattern.length <= bytes.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    count++;
  }
  return count;
}

/** Ids of the module's sections in order (custom sections are 0). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let offset = 8;
  while (offset < bytes.length) {
    ids.push(bytes[offset++]!);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[offset++]!;
      size += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
    }
    offset += size;
  }
  return ids;
}

function sortedNames(list: Descriptor[]): string[] {
  return list.map((d) => `${d.module ?? ""}.${d.name}:${d.kind}`).sort();
}

const FEATURE_CALLS: [string, number[]][] = [
  ["sum", [1_000_000]],
  ["nested", [40]],
  ["fib", [30]],
  ["classes", [1003]],
  ["branchy", [9]],
  ["branchy", [10]],
  ["vectors", [500]],
  ["tables", [37]],
  ["numbers", [300]],
  ["exceptions", [25]],
  ["tail", [100_000, 0]],
  ["tail_indirect", [33]],
];

test("every feature module export returns the same result instrumented (attached, armed) and not", () => {
  const original = compileWatFixture("features");
  const instrumented = addInterruptChecks(original);
  assert.equal(wasm.validate(instrumented), true);
  const plain = instantiate(original, featureImports()) as Exports;
  const checked = instantiate(instrumented, featureImports());
  const deadline = new CallbackDeadline({ budgetRefill: 7 });
  deadline.attach(checked);
  for (const [name, args] of FEATURE_CALLS) {
    const expected = plain[name]!(...args);
    deadline.arm(60_000);
    try {
      assert.equal((checked as Exports)[name]!(...args), expected, `${name}(${args.join(", ")})`);
    } finally {
      deadline.disarm();
    }
    assert.equal(deadline.interrupted, false);
  }
  // Spot values computed by hand, so the comparison above is not between two broken modules.
  assert.equal(plain.sum!(1_000_000), 1784293664); // 500000500000 mod 2^32
  assert.equal(plain.fib!(30), 832040);
  assert.equal(plain.classes!(8), 2 * 10000 + 2 * 3 * 100 + 8);
  assert.equal(plain.tail!(100_000, 0), 300_000);
});

test("one check per loop and per defined function, found past immediates full of 0x03 bytes", () => {
  const original = compileWatFixture("features");
  const instrumented = addInterruptChecks(original);
  const binary = parseWasmBinary(original);
  const after = parseWasmBinary(instrumented);
  // features.wat has 16 defined functions and 13 loops; it declares no () -> i32 type.
  assert.equal(binary.definedFunctionTypes.length, 16);
  assert.equal(after.types.length, binary.types.length + 1);
  assert.deepEqual(after.types.at(-1), { params: [], results: ["i32"] });
  // Globals: 2 imported + 1 defined, so the budget is global 3; tables: 1 imported + 1 defined.
  const pattern = checkPattern(3, binary.types.length, 2);
  assert.equal(countOccurrences(instrumented, pattern), 16 + 13);
  assert.equal(countOccurrences(addInterruptChecks(original, { checkFunctionEntry: false }), pattern), 13);
  assert.equal(countOccurrences(original, pattern), 0);
});

test("a module's existing () -> i32 type is reused instead of appending one", () => {
  const original = compileWat(`(module
    (type $a (func (param i32)))
    (type $get (func (result i32)))
    (func (type $get) (i32.const 1)))`);
  const instrumented = addInterruptChecks(original);
  assert.equal(parseWasmBinary(instrumented).types.length, 2);
  assert.equal(countOccurrences(instrumented, checkPattern(0, 1, 0)), 1);
});

test("an empty module gets the type, table, global and export sections, in order, and validates", () => {
  const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const instrumented = addInterruptChecks(empty);
  assert.equal(wasm.validate(instrumented), true);
  const exports = instantiate(instrumented);
  assert.deepEqual(Object.keys(exports).sort(), [INTERRUPT_BUDGET_EXPORT, INTERRUPT_TABLE_EXPORT]);
  assert.equal((exports[INTERRUPT_BUDGET_EXPORT] as { value: number }).value, INITIAL_INTERRUPT_BUDGET);
  assert.equal((exports[INTERRUPT_TABLE_EXPORT] as { length: number }).length, 1);
  assert.deepEqual(sectionIds(instrumented), [1, 4, 6, 7]);
});

test("a module without table and global sections gets them in place; its name section is kept byte for byte, still last", () => {
  const original = compileWat(`(module (func $spin_a_little (export "f") (result i32) (local $i i32)
    (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10))))
    (local.get $i)))`, { debugNames: true });
  const instrumented = addInterruptChecks(original);
  assert.equal(wasm.validate(instrumented), true);
  assert.deepEqual(sectionIds(original), [1, 3, 7, 10, 0]);
  assert.deepEqual(sectionIds(instrumented), [1, 3, 4, 6, 7, 10, 0]);
  const names = (bytes: Uint8Array) => Array.from(new Uint8Array(wasm.Module.customSections(new wasm.Module(bytes), "name")[0]!));
  assert.deepEqual(names(instrumented), names(original));
  assert.equal(parseWasmBinary(instrumented).functionNames.get(0), "spin_a_little");
  assert.equal((instantiate(instrumented) as Exports).f!(), 10);
});

test("imported globals and tables: the added global and table come after them, and existing indices still work", () => {
  const original = compileWat(`(module
    (import "env" "g" (global $g i32))
    (import "env" "t" (table $t 1 funcref))
    (global $mine (mut i32) (i32.const 5))
    (func $seven (result i32) (i32.const 7))
    (elem (table $t) (i32.const 0) func $seven)
    (func (export "read") (result i32)
      (i32.add (i32.add (global.get $g) (global.get $mine)) (call_indirect $t (result i32) (i32.const 0)))))`);
  const instrumented = addInterruptChecks(original);
  const table = new wasm.Table({ element: "anyfunc", initial: 1 });
  const exports = instantiate(instrumented, { env: { g: new wasm.Global({ value: "i32" }, 100), t: table } });
  assert.equal((exports as Exports).read!(), 112);
  // () -> i32 already exists as type 0; budget = global 2 (1 imported + 1 defined); table 1.
  assert.equal(parseWasmBinary(instrumented).types.length, 1);
  assert.equal(countOccurrences(instrumented, checkPattern(2, 0, 1)), 2);
});

test("a start function that loops runs during instantiation, before any deadline is attached", () => {
  const original = compileWat(`(module (global $done (export "done") (mut i32) (i32.const 0))
    (func $init (local $i i32)
      (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 100000))))
      (global.set $done (local.get $i)))
    (start $init))`);
  const exports = instantiate(addInterruptChecks(original));
  assert.equal((exports.done as { value: number }).value, 100000);
  // 100000 iterations + 1 entry spent from the initial budget of 2^32 - 1.
  assert.equal((exports[INTERRUPT_BUDGET_EXPORT] as { value: number }).value, -1 - 100001);
});

const root = fileURLToPath(new URL("../../", import.meta.url));

function committedModules(): string[] {
  const examples = readdirSync(`${root}examples`, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      try {
        return readdirSync(`${root}examples/${entry.name}/build`).filter((f) => f.endsWith(".wasm")).map((f) => `examples/${entry.name}/build/${f}`);
      } catch {
        return [];
      }
    });
  const foreign = readdirSync(`${root}tests/fixtures/foreign`, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".wasm"))
    .map((f) => `tests/fixtures/foreign/${f}`);
  return [...examples, ...foreign];
}

test("every committed example and foreign module stays valid, with the same imports and exports plus the two added", () => {
  const modules = committedModules();
  // Release and debug example builds exist once `npm run build` has run.
  assert.ok(modules.filter((m) => m.startsWith("tests/")).length >= 5, "foreign fixtures present");
  assert.ok(modules.some((m) => m.endsWith("add_header.wasm")), "examples built (npm run build)");
  for (const path of modules) {
    const original = new Uint8Array(readFileSync(`${root}${path}`));
    const instrumented = addInterruptChecks(original);
    assert.equal(wasm.validate(instrumented), true, path);
    const before = new wasm.Module(original);
    const after = new wasm.Module(instrumented);
    assert.deepEqual(sortedNames(wasm.Module.imports(after)), sortedNames(wasm.Module.imports(before)), path);
    assert.deepEqual(
      sortedNames(wasm.Module.exports(after)),
      sortedNames([...wasm.Module.exports(before), { name: INTERRUPT_BUDGET_EXPORT, kind: "global" }, { name: INTERRUPT_TABLE_EXPORT, kind: "table" }]),
      path,
    );
  }
});

const REQUEST: [string, string][] = [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "example.com"],
];

test("add_header instrumented runs a request through the test host exactly as the original", () => {
  const original = new Uint8Array(readFileSync(`${root}examples/add_header/build/add_header.wasm`));
  const run = (wasmBytes: Uint8Array) => {
    const host = createTestHost({ wasm: wasmBytes, pluginConfig: { name: "x-wasm-header", value: "demo-wasm" } });
    const result = host.flow({ request: { headers: REQUEST }, response: { headers: [[":status", "302"], ["location", "http://elsewhere/"]], body: "moved" } });
    return { host, result };
  };
  const before = run(original);
  const after = run(addInterruptChecks(original));
  assert.deepEqual(after.result.downstream.headers, [
    [":status", "302"],
    ["location", "envoy-wasm"],
    ["x-wasm-header", "demo-wasm"],
    ["hello", "world!"],
  ]);
  assert.deepEqual(after.result.downstream, before.result.downstream);
  assert.deepEqual(after.result.upstream, before.result.upstream);
  assert.deepEqual(after.host.logs.records, before.host.logs.records);
  assert.equal(after.host.failure, null);
});

test("C add_header (clang) instrumented, with a deadline calling the host at every check, answers the same", () => {
  const original = new Uint8Array(readFileSync(`${root}tests/fixtures/foreign/c_add_header.wasm`));
  const host = createTestHost({ wasm: addInterruptChecks(original), pluginConfig: { name: "x-wasm", value: "yes" } });
  // A deadline of the test's own (counting clock reads), so reach the private instance to attach it.
  const instance = (host.host.vm as unknown as { instance: { exports: Record<string, unknown> } }).instance;
  let clockReads = 0;
  const deadline = new CallbackDeadline({ budgetRefill: 0, now: () => ++clockReads });
  deadline.attach(instance.exports);
  deadline.arm(1e9);
  try {
    const result = host.flow({ request: { headers: REQUEST }, response: { headers: [[":status", "302"], ["location", "http://elsewhere/"]] } });
    assert.deepEqual(result.downstream.headers, [
      [":status", "302"],
      ["location", "envoy-wasm"],
      ["x-wasm", "yes"],
      ["hello", "world!"],
    ]);
  } finally {
    deadline.disarm();
  }
  assert.equal(deadline.interrupted, false);
  assert.equal(host.failure, null);
  assert.ok(clockReads > 10, `checks reached the host (${clockReads} clock reads)`);
});

// ------------------------------------------------------------------ bad input

function assertRefused(bytes: Uint8Array, expected: typeof WasmParseError | typeof InterruptInstrumentationError, message: RegExp): void {
  assert.throws(() => addInterruptChecks(bytes), (error: unknown) => {
    assert.ok(error instanceof expected, `expected ${expected.name}, got ${String(error)}`);
    assert.match((error as Error).message, message);
    return true;
  });
}

test("garbage and a wrong header are refused with WasmParseError", () => {
  assertRefused(new Uint8Array([]), WasmParseError, /^unexpected end of data reading wasm header at offset 0$/);
  assertRefused(new TextEncoder().encode("hello world, not wasm"), WasmParseError, /^bad wasm header \(expected \\0asm version 1\) at offset 0$/);
  assertRefused(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00]), WasmParseError, /bad wasm header/);
  assertRefused(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x00]), WasmParseError, /^unknown section id 14 at offset 8$/);
  assertRefused(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00]), WasmParseError, /runs past the end/);
});

test("a function section without bodies is refused, not turned into a module", () => {
  const bytes = compileWat(`(module (func (export "f")))`);
  assert.deepEqual(Array.from(bytes.subarray(-6)), [0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
  const withoutCode = bytes.subarray(0, bytes.length - 6);
  assertRefused(withoutCode, WasmParseError, /^code section has 0 bodies for 1 functions at offset \d+$/);
});

test("every prefix of a module is refused or rewritten into a module exactly as valid as the prefix", () => {
  const bytes = compileWatFixture("features");
  let refused = 0;
  for (let length = 0; length < bytes.length; length++) {
    const prefix = bytes.slice(0, length);
    let output: Uint8Array;
    try {
      output = addInterruptChecks(prefix);
    } catch (error) {
      assert.ok(error instanceof WasmParseError, `prefix ${length}: ${String(error)}`);
      refused++;
      continue;
    }
    assert.equal(wasm.validate(output), wasm.validate(prefix), `prefix of ${length} bytes`);
  }
  assert.ok(refused > bytes.length * 0.9, `${refused} of ${bytes.length} prefixes refused`);
});

test("single-byte corruptions never yield an invalid module from a valid one, and fail only with the two error classes", () => {
  const bytes = compileWatFixture("features");
  let seed = 12345;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let trial = 0; trial < 400; trial++) {
    const corrupt = bytes.slice();
    corrupt[8 + random(bytes.length - 8)] = random(256);
    let output: Uint8Array;
    try {
      output = addInterruptChecks(corrupt);
    } catch (error) {
      assert.ok(error instanceof WasmParseError || error instanceof InterruptInstrumentationError, String(error));
      continue;
    }
    if (wasm.validate(corrupt)) assert.equal(wasm.validate(output), true, `trial ${trial}`);
  }
});

/** A module whose only function body is `code` (no locals), of type () -> (). */
function moduleWithBody(code: number[]): Uint8Array {
  const body = [0x00, ...code];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x0a, body.length + 2, 0x01, body.length, ...body,
  ]);
}

test("unknown opcodes are refused with InterruptInstrumentationError naming the opcode and the function", () => {
  assertRefused(moduleWithBody([0x27, 0x0b]), InterruptInstrumentationError, /^unknown opcode 0x27 in function 0 at offset 23$/);
  assertRefused(moduleWithBody([0xd5, 0x0b]), InterruptInstrumentationError, /^unknown opcode 0xd5 in function 0 /);
  assertRefused(moduleWithBody([0xfc, 0x12, 0x0b]), InterruptInstrumentationError, /^unknown opcode 0xfc 18 in function 0 /);
  assertRefused(moduleWithBody([0xfd, 0xa0, 0x02, 0x0b]), InterruptInstrumentationError, /^unknown opcode 0xfd 288 in function 0 /);
  assertRefused(moduleWithBody([0xfe, 0x4f, 0x0b]), InterruptInstrumentationError, /^unknown opcode 0xfe 79 in function 0 /);
  assertRefused(moduleWithBody([0xfe, 0x03, 0x01, 0x0b]), InterruptInstrumentationError, /atomic\.fence with non-zero flags/);
  // GC-proposal shapes: a (ref null $t) block type and a non-abstract ref.null heap type.
  assertRefused(moduleWithBody([0x03, 0x63, 0x00, 0x0b, 0x0b]), InterruptInstrumentationError, /^unsupported block type 0x63/);
  assertRefused(moduleWithBody([0xd0, 0x00, 0x1a, 0x0b]), InterruptInstrumentationError, /^unsupported ref\.null heap type 0x00 in function 0/);
  // Function indices count imports.
  const withImport = compileWat(`(module (import "env" "f" (func)) (func nop))`);
  const patched = withImport.slice();
  patched[patched.lastIndexOf(0x01)] = 0x27; // the `nop` of function 1
  assertRefused(patched, InterruptInstrumentationError, /^unknown opcode 0x27 in function 1 /);
});

test("a truncated instruction inside a body is a WasmParseError", () => {
  assertRefused(moduleWithBody([0x41]), WasmParseError, /unexpected end of data reading i32\.const value/);
  assertRefused(moduleWithBody([0x0e, 0x02, 0x00]), WasmParseError, /br_table label/);
});

test("rec groups and a module instrumented twice are refused", () => {
  const recGroup = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x4e, 0x01, 0x60, 0x00, 0x00]);
  assertRefused(recGroup, InterruptInstrumentationError, /^unsupported type form 0x4e \(rec groups and GC types are not handled\) at offset 11$/);
  const once = addInterruptChecks(compileWat(`(module (func (export "f")))`));
  assertRefused(once, InterruptInstrumentationError, /already exports "__pwas_interrupt_budget" \(instrumented twice\?\)/);
});

test("try_table and throw_ref (not yet in Node 20's V8) are decoded, so the loop after them is found", () => {
  // block { try_table (catch_all_ref 0) (catch_all_ref 0) { throw_ref } } loop {}: the catch
  // clauses encode as `03 00`, which a byte scan would take for a loop.
  const code = [0x02, 0x40, 0x1f, 0x40, 0x02, 0x03, 0x00, 0x03, 0x00, 0x0a, 0x0b, 0x0b, 0x03, 0x40, 0x0b, 0x0b];
  const instrumented = addInterruptChecks(moduleWithBody(code));
  // type () -> () is 0, the check type is appended as 1; no globals or tables before ours.
  assert.equal(countOccurrences(instrumented, checkPattern(0, 1, 0)), 2);
  assertRefused(moduleWithBody([0x1f, 0x40, 0x01, 0x07, 0x0b, 0x0b]), InterruptInstrumentationError, /unknown try_table catch kind 0x07/);
});
