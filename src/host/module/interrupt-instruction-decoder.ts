import type { ByteReader } from "./byte-reader";
import { InterruptInstrumentationError } from "./interrupt-instrumentation-error";

/**
 * Steps over whole wasm instructions (opcode and immediates), so that a rewrite finds real
 * `loop` opcodes and never a 0x03 byte inside an immediate. Covers MVP, sign extension,
 * non-trapping float-to-int, bulk memory, reference types, multi-value block types, SIMD (and
 * relaxed SIMD), threads, legacy exception handling, `try_table`/`throw_ref` and tail calls.
 * Anything else is refused: guessing an immediate's length would shift every later instruction.
 */

/** Opcodes the rewrite looks for. */
export const OPCODE_LOOP = 0x03;

const enum Immediate {
  Unknown,
  None,
  BlockType,
  Index,
  TwoIndices,
  BranchTable,
  MemArg,
  I32,
  I64,
  F32,
  F64,
  TypedSelect,
  HeapType,
  TryTable,
  PrefixFC,
  PrefixFD,
  PrefixFE,
}

/** Value types whose encoding is a single byte: numbers, v128, funcref, externref. */
const SINGLE_BYTE_VALUE_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

const IMMEDIATES: Immediate[] = (() => {
  const table = new Array<Immediate>(256).fill(Immediate.Unknown);
  const set = (kind: Immediate, ...opcodes: number[]): void => {
    for (const opcode of opcodes) table[opcode] = kind;
  };
  const range = (kind: Immediate, first: number, last: number): void => {
    for (let opcode = first; opcode <= last; opcode++) table[opcode] = kind;
  };
  // unreachable nop else throw_ref end return catch_all drop select ref.is_null
  set(Immediate.None, 0x00, 0x01, 0x05, 0x0a, 0x0b, 0x0f, 0x19, 0x1a, 0x1b, 0xd1);
  // block loop if try
  set(Immediate.BlockType, 0x02, 0x03, 0x04, 0x06);
  // catch throw rethrow br br_if call return_call delegate ref.func
  set(Immediate.Index, 0x07, 0x08, 0x09, 0x0c, 0x0d, 0x10, 0x12, 0x18, 0xd2);
  // local.get local.set local.tee global.get global.set table.get table.set
  range(Immediate.Index, 0x20, 0x26);
  // memory.size memory.grow: a memory index (a reserved 0x00 byte before multi-memory)
  set(Immediate.Index, 0x3f, 0x40);
  // call_indirect return_call_indirect: type index, table index
  set(Immediate.TwoIndices, 0x11, 0x13);
  set(Immediate.BranchTable, 0x0e);
  set(Immediate.TypedSelect, 0x1c);
  set(Immediate.TryTable, 0x1f);
  range(Immediate.MemArg, 0x28, 0x3e);
  set(Immediate.I32, 0x41);
  set(Immediate.I64, 0x42);
  set(Immediate.F32, 0x43);
  set(Immediate.F64, 0x44);
  // numeric MVP instructions, then the sign-extension operators 0xc0..0xc4
  range(Immediate.None, 0x45, 0xc4);
  set(Immediate.HeapType, 0xd0);
  set(Immediate.PrefixFC, 0xfc);
  set(Immediate.PrefixFD, 0xfd);
  set(Immediate.PrefixFE, 0xfe);
  return table;
})();

/**
 * Moves `reader` past one instruction and returns its first opcode byte.
 *
 * @param functionIndex the function being decoded (imports counted), for error messages.
 * @throws InterruptInstrumentationError for an opcode or block/value type it does not know.
 * @throws WasmParseError when the instruction runs past the end of the body.
 */
export function skipInstruction(reader: ByteReader, functionIndex: number): number {
  const offset = reader.offset;
  const opcode = reader.u8("opcode");
  switch (IMMEDIATES[opcode]!) {
    case Immediate.Unknown:
      throw unknownOpcode(`0x${hex(opcode)}`, functionIndex, offset);
    case Immediate.None:
      break;
    case Immediate.BlockType:
      skipBlockType(reader);
      break;
    case Immediate.Index:
      reader.u32("index immediate");
      break;
    case Immediate.TwoIndices:
      reader.u32("type index");
      reader.u32("table index");
      break;
    case Immediate.BranchTable: {
      const count = reader.u32("br_table label count");
      for (let i = 0; i <= count; i++) reader.u32("br_table label");
      break;
    }
    case Immediate.MemArg:
      skipMemArg(reader);
      break;
    case Immediate.I32:
      reader.skipSigned(32, "i32.const value");
      break;
    case Immediate.I64:
      reader.skipSigned(64, "i64.const value");
      break;
    case Immediate.F32:
      reader.skip(4, "f32.const value");
      break;
    case Immediate.F64:
      reader.skip(8, "f64.const value");
      break;
    case Immediate.TypedSelect: {
      const count = reader.u32("select type count");
      for (let i = 0; i < count; i++) skipValueType(reader, "select type");
      break;
    }
    case Immediate.HeapType: {
      const typeOffset = reader.offset;
      const heapType = reader.u8("ref.null heap type");
      if (heapType !== 0x70 && heapType !== 0x6f) {
        throw new InterruptInstrumentationError(`unsupported ref.null heap type 0x${hex(heapType)} in function ${functionIndex}`, typeOffset);
      }
      break;
    }
    case Immediate.TryTable:
      skipTryTable(reader, functionIndex);
      break;
    case Immediate.PrefixFC:
      skipPrefixFC(reader, functionIndex, offset);
      break;
    case Immediate.PrefixFD:
      skipPrefixFD(reader, functionIndex, offset);
      break;
    case Immediate.PrefixFE:
      skipPrefixFE(reader, functionIndex, offset);
      break;
  }
  return opcode;
}

/**
 * A block type is 0x40 (empty), one value type, or a non-negative s33 type index. A negative
 * s33 other than those is a type this decoder does not know (e.g. a GC reference type).
 */
function skipBlockType(reader: ByteReader): void {
  const offset = reader.offset;
  const first = reader.u8("block type");
  if (first === 0x40 || SINGLE_BYTE_VALUE_TYPES.has(first)) return;
  let last = first;
  for (let length = 1; (last & 0x80) !== 0; length++) {
    if (length === 5) reader.fail("block type index is an over-long LEB128", offset);
    last = reader.u8("block type index");
  }
  if ((last & 0x40) !== 0) throw new InterruptInstrumentationError(`unsupported block type 0x${hex(first)}`, offset);
}

/** Value types as they appear in typed `select`, locals and tables. */
export function skipValueType(reader: ByteReader, what: string): number {
  const offset = reader.offset;
  const code = reader.u8(what);
  if (!SINGLE_BYTE_VALUE_TYPES.has(code)) throw new InterruptInstrumentationError(`unsupported ${what} 0x${hex(code)}`, offset);
  return code;
}

/** Alignment (bit 6 announces a memory index, multi-memory), then the offset (u64 for memory64). */
function skipMemArg(reader: ByteReader): void {
  const align = reader.u32("memarg alignment");
  if ((align & 0x40) !== 0) reader.u32("memarg memory index");
  reader.skipSigned(64, "memarg offset");
}

function skipTryTable(reader: ByteReader, functionIndex: number): void {
  skipBlockType(reader);
  const count = reader.u32("try_table catch count");
  for (let i = 0; i < count; i++) {
    const offset = reader.offset;
    const kind = reader.u8("try_table catch kind");
    if (kind === 0x00 || kind === 0x01) {
      reader.u32("catch tag index");
      reader.u32("catch label");
    } else if (kind === 0x02 || kind === 0x03) {
      reader.u32("catch label");
    } else {
      throw new InterruptInstrumentationError(`unknown try_table catch kind 0x${hex(kind)} in function ${functionIndex}`, offset);
    }
  }
}

/** 0xFC: saturating truncation (0-7) and bulk memory / table operations (8-17). */
function skipPrefixFC(reader: ByteReader, functionIndex: number, offset: number): void {
  const sub = reader.u32("0xfc sub-opcode");
  if (sub <= 7) return;
  switch (sub) {
    case 8: // memory.init data, memory
    case 10: // memory.copy memory, memory
    case 12: // table.init elem, table
    case 14: // table.copy table, table
      reader.u32("first index");
      reader.u32("second index");
      return;
    case 9: // data.drop
    case 11: // memory.fill
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      reader.u32("index immediate");
      return;
    default:
      throw unknownOpcode(`0xfc ${sub}`, functionIndex, offset);
  }
}

/** 0xFD: SIMD. Sub-opcodes without immediates are the plain vector operators. */
function skipPrefixFD(reader: ByteReader, functionIndex: number, offset: number): void {
  const sub = reader.u32("0xfd sub-opcode");
  if (sub <= 0x0b || sub === 0x5c || sub === 0x5d) {
    // v128.load*, v128.store, v128.load32_zero, v128.load64_zero
    skipMemArg(reader);
  } else if (sub === 0x0c || sub === 0x0d) {
    // v128.const, i8x16.shuffle
    reader.skip(16, "v128 immediate");
  } else if (sub >= 0x15 && sub <= 0x22) {
    reader.u8("lane index");
  } else if (sub >= 0x54 && sub <= 0x5b) {
    // v128.load*_lane, v128.store*_lane
    skipMemArg(reader);
    reader.u8("lane index");
  } else if (sub > 0x113) {
    // 0x100..0x113 are relaxed SIMD, all without immediates.
    throw unknownOpcode(`0xfd ${sub}`, functionIndex, offset);
  }
}

/** 0xFE: threads. atomic.fence carries one reserved 0x00 byte; every other operator a memarg. */
function skipPrefixFE(reader: ByteReader, functionIndex: number, offset: number): void {
  const sub = reader.u32("0xfe sub-opcode");
  if (sub === 0x03) {
    const flagsOffset = reader.offset;
    if (reader.u8("atomic.fence flags") !== 0) throw unknownOpcode("0xfe 3 (atomic.fence with non-zero flags)", functionIndex, flagsOffset);
  } else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) {
    skipMemArg(reader);
  } else {
    throw unknownOpcode(`0xfe ${sub}`, functionIndex, offset);
  }
}

function unknownOpcode(name: string, functionIndex: number, offset: number): InterruptInstrumentationError {
  return new InterruptInstrumentationError(`unknown opcode ${name} in function ${functionIndex}`, offset);
}

function hex(value: number): string {
  return value.toString(16).padStart(2, "0");
}
