import { ByteReader } from "./byte-reader";
import { InterruptByteWriter } from "./interrupt-byte-writer";
import { OPCODE_LOOP, skipInstruction, skipValueType } from "./interrupt-instruction-decoder";
import { InterruptInstrumentationError } from "./interrupt-instrumentation-error";
import { WasmParseError } from "./wasm-parse-error";

/** Export name of the budget global (mutable i32) that {@link addInterruptChecks} adds. */
export const INTERRUPT_BUDGET_EXPORT = "__pwas_interrupt_budget";
/** Export name of the one-element funcref table that holds the host's check function. */
export const INTERRUPT_TABLE_EXPORT = "__pwas_interrupt_table";
/**
 * Start value of the budget global: -1, i.e. 2^32 - 1 checks before the first call into the
 * table. An instrumented module that was never attached (and a start function, which runs
 * before anyone can attach) therefore behaves like the original unless it loops for billions
 * of iterations; only then does the empty table make it trap.
 */
export const INITIAL_INTERRUPT_BUDGET = -1;

export interface InterruptCheckOptions {
  /**
   * Also check at the entry of every defined function (default true). Loops are not the only
   * way to run forever: tree recursion (`f` calling itself twice, depth n, 2^n calls) and
   * `return_call` cycles never overflow the stack, and only an entry check stops them.
   */
  readonly checkFunctionEntry?: boolean;
}

const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

const enum SectionId {
  Custom = 0,
  Type = 1,
  Import = 2,
  Function = 3,
  Table = 4,
  Memory = 5,
  Global = 6,
  Export = 7,
  Start = 8,
  Element = 9,
  Code = 10,
  Data = 11,
  DataCount = 12,
  Tag = 13,
}

/** Position of each non-custom section in the order the binary format prescribes. */
const SECTION_ORDER: Readonly<Record<number, number>> = {
  [SectionId.Type]: 1,
  [SectionId.Import]: 2,
  [SectionId.Function]: 3,
  [SectionId.Table]: 4,
  [SectionId.Memory]: 5,
  [SectionId.Tag]: 6,
  [SectionId.Global]: 7,
  [SectionId.Export]: 8,
  [SectionId.Start]: 9,
  [SectionId.Element]: 10,
  [SectionId.DataCount]: 11,
  [SectionId.Code]: 12,
  [SectionId.Data]: 13,
};

const EXTERNAL_KIND_FUNCTION = 0x00;
const EXTERNAL_KIND_TABLE = 0x01;
const EXTERNAL_KIND_MEMORY = 0x02;
const EXTERNAL_KIND_GLOBAL = 0x03;
const EXTERNAL_KIND_TAG = 0x04;
const FUNC_TYPE_FORM = 0x60;
const TYPE_I32 = 0x7f;
const TYPE_FUNCREF = 0x70;

interface Section {
  readonly id: number;
  /** The section's content (after id and size); replaced when the section is rebuilt. */
  content: Uint8Array;
  /** Offset of the content in the original module, for error messages. */
  readonly offset: number;
}

/** A run of the input's bytes copied unchanged into the code section being rebuilt. */
interface CopiedRun {
  /** Offset in the input module. */
  readonly from: number;
  /** Offset in the rebuilt code section's content. */
  readonly to: number;
  readonly length: number;
}

/** The rewritten module and how its code offsets map back (see {@link addInterruptChecksMapped}). */
export interface InterruptCheckedModule {
  readonly bytes: Uint8Array;
  /**
   * The input's offset for `offset` in the output, for backtrace frames: offsets inside a copied
   * instruction map exactly; an offset inside an added check maps to the original instruction
   * that follows it (the loop's first instruction, or the function's first).
   */
  originalOffset(offset: number): number;
}

/** What the added check refers to. */
interface CheckTargets {
  readonly budgetGlobal: number;
  readonly checkType: number;
  readonly checkTable: number;
}

/**
 * Returns a copy of `bytes` in which every `loop` (and, by default, every defined function's
 * entry) first spends one unit of a budget, and calls the host when the budget is spent:
 *
 * ```wat
 * global.get $budget
 * if
 *   global.get $budget  i32.const 1  i32.sub  global.set $budget
 * else
 *   i32.const 0  call_indirect $table (type $() -> i32)
 *   if unreachable end      ;; the host said stop
 * end
 * ```
 *
 * The check is stack-neutral, so loops with parameters and results (multi-value) are unchanged
 * in type. What is added, all appended so that no existing index shifts:
 * - a `() -> i32` function type (reused if the module has one);
 * - a mutable i32 global, exported as {@link INTERRUPT_BUDGET_EXPORT}, starting at
 *   {@link INITIAL_INTERRUPT_BUDGET};
 * - a funcref table of one element, exported as {@link INTERRUPT_TABLE_EXPORT}, initially empty.
 *   A table rather than a new import keeps every function index (exports, elements, start,
 *   the `name` section) valid.
 *
 * The code section is rebuilt because body sizes change. Custom sections are copied unchanged,
 * so code offsets in DWARF sections and source maps are stale afterwards (function names in the
 * `name` section stay right). Use {@link CallbackDeadline} to fill the table and run the budget.
 *
 * @throws WasmParseError for a truncated or malformed binary.
 * @throws InterruptInstrumentationError for a construct the decoder does not handle (an unknown
 *   opcode, naming it and the function index; a rec group or GC type; a value type other than
 *   numbers, v128, funcref and externref) and for a module that already has the added exports.
 *   Run such a module without instrumentation.
 */
export function addInterruptChecks(bytes: Uint8Array, options: InterruptCheckOptions = {}): Uint8Array {
  return addInterruptChecksMapped(bytes, options).bytes;
}

/**
 * {@link addInterruptChecks}, also returning how code offsets of the result map back to `bytes`,
 * so a failure report can show the offsets cpp-host would (src/v8/v8.cc `getFailMessage`).
 */
export function addInterruptChecksMapped(bytes: Uint8Array, options: InterruptCheckOptions = {}): InterruptCheckedModule {
  const sections = readSections(bytes);
  const find = (id: number): Section | undefined => sections.find((section) => section.id === id);

  const imports = find(SectionId.Import);
  const importCounts = imports ? countImports(bytes, imports) : { functions: 0, tables: 0, globals: 0 };
  const definedFunctions = find(SectionId.Function) ? vectorCount(bytes, find(SectionId.Function)!, "function") : 0;

  const checkType = ensureCheckType(bytes, sections);
  const checkTable = importCounts.tables + appendTable(bytes, sections);
  const budgetGlobal = importCounts.globals + appendBudgetGlobal(bytes, sections);
  appendExports(bytes, sections, budgetGlobal, checkTable);

  const code = find(SectionId.Code);
  const bodies = code ? vectorCount(bytes, code, "function body") : 0;
  if (bodies !== definedFunctions) {
    throw new WasmParseError(`code section has ${bodies} bodies for ${definedFunctions} functions`, code?.offset ?? bytes.length);
  }
  const runs: CopiedRun[] = [];
  if (code) {
    code.content = instrumentCode(bytes, code, { budgetGlobal, checkType, checkTable }, importCounts.functions, options.checkFunctionEntry ?? true, runs);
  }

  const out = new InterruptByteWriter(bytes.length + 1024);
  out.bytes(MAGIC_AND_VERSION);
  let codeStart = 0;
  for (const section of sections) {
    out.byte(section.id).u32(section.content.length);
    if (section === code) codeStart = out.size;
    out.bytes(section.content);
  }
  return { bytes: out.toBytes(), originalOffset: (offset) => originalOffset(runs, offset - codeStart) };
}

function originalOffset(runs: readonly CopiedRun[], inCode: number): number {
  // The first run that ends after the offset: it holds the offset, or follows the added check.
  let low = 0;
  let high = runs.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (runs[middle]!.to + runs[middle]!.length <= inCode) low = middle + 1;
    else high = middle;
  }
  const run = runs[low];
  if (run === undefined) {
    const last = runs[runs.length - 1];
    return last === undefined ? inCode : last.from + last.length - 1;
  }
  return inCode >= run.to ? run.from + (inCode - run.to) : run.from;
}

function readSections(bytes: Uint8Array): Section[] {
  const reader = new ByteReader(bytes);
  for (const expected of MAGIC_AND_VERSION) {
    if (reader.u8("wasm header") !== expected) reader.fail("bad wasm header (expected \\0asm version 1)", 0);
  }
  const sections: Section[] = [];
  const seen = new Set<number>();
  let lastOrder = 0;
  while (!reader.atEnd) {
    const idOffset = reader.offset;
    const id = reader.u8("section id");
    if (id !== SectionId.Custom && SECTION_ORDER[id] === undefined) reader.fail(`unknown section id ${id}`, idOffset);
    const size = reader.u32("section size");
    const offset = reader.offset;
    const content = reader.bytesOf(size, `section ${id}`);
    if (id !== SectionId.Custom) {
      if (seen.has(id)) reader.fail(`duplicate section ${id}`, idOffset);
      if (SECTION_ORDER[id]! < lastOrder) reader.fail(`section ${id} out of order`, idOffset);
      seen.add(id);
      lastOrder = SECTION_ORDER[id]!;
    }
    sections.push({ id, content, offset });
  }
  return sections;
}

/** The section with `id`, created empty (count 0) at its prescribed place when missing. */
function sectionFor(sections: Section[], id: number): Section {
  const existing = sections.find((section) => section.id === id);
  if (existing) return existing;
  const order = SECTION_ORDER[id]!;
  // After the last section that must precede it, so trailing custom sections stay trailing.
  let insertAt = 0;
  sections.forEach((section, index) => {
    if (section.id !== SectionId.Custom && SECTION_ORDER[section.id]! < order) insertAt = index + 1;
  });
  const created: Section = { id, content: new Uint8Array([0]), offset: -1 };
  sections.splice(insertAt, 0, created);
  return created;
}

function readerOf(bytes: Uint8Array, section: Section): ByteReader {
  if (section.offset < 0) return new ByteReader(section.content);
  return new ByteReader(bytes, section.offset, section.offset + section.content.length);
}

function vectorCount(bytes: Uint8Array, section: Section, item: string): number {
  return readerOf(bytes, section).u32(`${item} count`);
}

/** `count + extra` followed by the section's entries unchanged, then `appended`. */
function appendEntries(bytes: Uint8Array, section: Section, item: string, appended: InterruptByteWriter, extra: number): number {
  const reader = readerOf(bytes, section);
  const count = reader.u32(`${item} count`);
  const rest = section.offset < 0 ? section.content.subarray(reader.offset) : bytes.subarray(reader.offset, reader.end);
  section.content = new InterruptByteWriter(rest.length + appended.size + 8).u32(count + extra).bytes(rest).bytes(appended.toBytes()).toBytes();
  return count;
}

function countImports(bytes: Uint8Array, section: Section): { functions: number; tables: number; globals: number } {
  const reader = readerOf(bytes, section);
  const counts = { functions: 0, tables: 0, globals: 0 };
  const count = reader.u32("import count");
  for (let i = 0; i < count; i++) {
    reader.name("import module name");
    reader.name("import field name");
    const kindOffset = reader.offset;
    const kind = reader.u8("import kind");
    switch (kind) {
      case EXTERNAL_KIND_FUNCTION:
        reader.u32("import type index");
        counts.functions++;
        break;
      case EXTERNAL_KIND_TABLE:
        skipValueType(reader, "table element type");
        skipLimits(reader);
        counts.tables++;
        break;
      case EXTERNAL_KIND_MEMORY:
        skipLimits(reader);
        break;
      case EXTERNAL_KIND_GLOBAL:
        skipValueType(reader, "global type");
        reader.u8("global mutability");
        counts.globals++;
        break;
      case EXTERNAL_KIND_TAG:
        reader.u8("tag attribute");
        reader.u32("tag type index");
        break;
      default:
        reader.fail(`unknown import kind 0x${kind.toString(16)}`, kindOffset);
    }
  }
  if (!reader.atEnd) reader.fail("trailing bytes in import section");
  return counts;
}

function skipLimits(reader: ByteReader): void {
  const flags = reader.u8("limits flags");
  // Bit 2 is memory64: bounds are u64.
  const skipBound = (what: string): void => (flags & 0x04 ? reader.skipSigned(64, what) : void reader.u32(what));
  skipBound("limits minimum");
  if (flags & 0x01) skipBound("limits maximum");
}

/** Index of a `() -> i32` type, appending one when the module has none. */
function ensureCheckType(bytes: Uint8Array, sections: Section[]): number {
  const section = sectionFor(sections, SectionId.Type);
  const reader = readerOf(bytes, section);
  const count = reader.u32("type count");
  for (let index = 0; index < count; index++) {
    const formOffset = reader.offset;
    const form = reader.u8("type form");
    if (form !== FUNC_TYPE_FORM) {
      throw new InterruptInstrumentationError(`unsupported type form 0x${form.toString(16)} (rec groups and GC types are not handled)`, formOffset);
    }
    const params = reader.u32("parameter count");
    for (let i = 0; i < params; i++) skipValueType(reader, "parameter type");
    const results = reader.u32("result count");
    let onlyResult = -1;
    for (let i = 0; i < results; i++) onlyResult = skipValueType(reader, "result type");
    if (params === 0 && results === 1 && onlyResult === TYPE_I32) return index;
  }
  if (!reader.atEnd) reader.fail("trailing bytes in type section");
  appendEntries(bytes, section, "type", new InterruptByteWriter().bytes([FUNC_TYPE_FORM, 0, 1, TYPE_I32]), 1);
  return count;
}

/** Appends the check table; returns its index among the defined tables. */
function appendTable(bytes: Uint8Array, sections: Section[]): number {
  const table = new InterruptByteWriter().byte(TYPE_FUNCREF).byte(0x00).u32(1);
  return appendEntries(bytes, sectionFor(sections, SectionId.Table), "table", table, 1);
}

/** Appends the budget global; returns its index among the defined globals. */
function appendBudgetGlobal(bytes: Uint8Array, sections: Section[]): number {
  const global = new InterruptByteWriter().byte(TYPE_I32).byte(0x01).byte(0x41).s32(INITIAL_INTERRUPT_BUDGET).byte(0x0b);
  return appendEntries(bytes, sectionFor(sections, SectionId.Global), "global", global, 1);
}

function appendExports(bytes: Uint8Array, sections: Section[], budgetGlobal: number, checkTable: number): void {
  const section = sectionFor(sections, SectionId.Export);
  const reader = readerOf(bytes, section);
  const count = reader.u32("export count");
  for (let i = 0; i < count; i++) {
    const nameOffset = reader.offset;
    const name = reader.name("export name");
    if (name === INTERRUPT_BUDGET_EXPORT || name === INTERRUPT_TABLE_EXPORT) {
      throw new InterruptInstrumentationError(`module already exports "${name}" (instrumented twice?)`, nameOffset);
    }
    reader.u8("export kind");
    reader.u32("export index");
  }
  if (!reader.atEnd) reader.fail("trailing bytes in export section");
  const added = new InterruptByteWriter()
    .name(INTERRUPT_BUDGET_EXPORT).byte(EXTERNAL_KIND_GLOBAL).u32(budgetGlobal)
    .name(INTERRUPT_TABLE_EXPORT).byte(EXTERNAL_KIND_TABLE).u32(checkTable);
  appendEntries(bytes, section, "export", added, 2);
}

function checkSequence(targets: CheckTargets): Uint8Array {
  const { budgetGlobal, checkType, checkTable } = targets;
  return new InterruptByteWriter()
    .byte(0x23).u32(budgetGlobal) // global.get
    .byte(0x04).byte(0x40) // if (no params, no results)
    .byte(0x23).u32(budgetGlobal)
    .byte(0x41).s32(1) // i32.const 1
    .byte(0x6b) // i32.sub
    .byte(0x24).u32(budgetGlobal) // global.set
    .byte(0x05) // else
    .byte(0x41).s32(0) // element 0 of the check table
    .byte(0x11).u32(checkType).u32(checkTable) // call_indirect
    .byte(0x04).byte(0x40)
    .byte(0x00) // unreachable
    .byte(0x0b)
    .byte(0x0b)
    .toBytes();
}

function instrumentCode(
  bytes: Uint8Array,
  section: Section,
  targets: CheckTargets,
  importedFunctions: number,
  checkEntry: boolean,
  runs: CopiedRun[],
): Uint8Array {
  const check = checkSequence(targets);
  const reader = readerOf(bytes, section);
  const count = reader.u32("function body count");
  const out = new InterruptByteWriter(section.content.length + count * check.length + 1024);
  out.u32(count);
  const body = new InterruptByteWriter();
  const bodyRuns: { from: number; to: number; length: number }[] = [];
  const copy = (from: number, to: number): void => {
    bodyRuns.push({ from, to: body.size, length: to - from });
    body.bytes(bytes.subarray(from, to));
  };
  for (let i = 0; i < count; i++) {
    const functionIndex = importedFunctions + i;
    const size = reader.u32("function body size");
    const code = reader.sub(size, `body of function ${functionIndex}`);
    const start = code.offset;
    const localGroups = code.u32("local declaration count");
    for (let group = 0; group < localGroups; group++) {
      code.u32("local count");
      skipValueType(code, "local type");
    }
    body.reset();
    bodyRuns.length = 0;
    copy(start, code.offset);
    if (checkEntry) body.bytes(check);
    let copiedUpTo = code.offset;
    let lastOpcode = -1;
    while (!code.atEnd) {
      lastOpcode = skipInstruction(code, functionIndex);
      if (lastOpcode === OPCODE_LOOP) {
        copy(copiedUpTo, code.offset);
        body.bytes(check);
        copiedUpTo = code.offset;
      }
    }
    if (lastOpcode !== 0x0b) code.fail(`body of function ${functionIndex} does not end with \`end\``);
    copy(copiedUpTo, code.end);
    out.u32(body.size);
    for (const run of bodyRuns) runs.push({ from: run.from, to: out.size + run.to, length: run.length });
    out.bytes(body.view());
  }
  if (!reader.atEnd) reader.fail("trailing bytes in code section");
  return out.toBytes();
}
