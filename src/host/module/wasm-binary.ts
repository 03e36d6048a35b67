import type { FuncSignature, ValType } from "../abi/signature";
import { ByteReader } from "./byte-reader";

/** External kinds of imports and exports, named as in the wasm text format. */
export type ExternalKind = "function" | "table" | "memory" | "global" | "tag";

/** Size limits of a memory or table, in pages / elements. */
export interface Limits {
  readonly min: number;
  readonly max?: number;
  readonly shared: boolean;
  readonly memory64: boolean;
}

/** One entry of the import section. Exactly the field matching `kind` is set. */
export interface RawImport {
  readonly module: string;
  readonly name: string;
  readonly kind: ExternalKind;
  /** For functions: index into {@link WasmBinary.types}. */
  readonly typeIndex?: number;
  readonly limits?: Limits;
  /** For tables: the element type. */
  readonly element?: ValType;
  readonly global?: { readonly type: ValType; readonly mutable: boolean };
}

/** One entry of the export section. */
export interface RawExport {
  readonly name: string;
  readonly kind: ExternalKind;
  readonly index: number;
}

/** A custom section's name and content size. */
export interface CustomSection {
  readonly name: string;
  readonly size: number;
}

/** The parts of a wasm binary the host needs, as stored in the binary. */
export interface WasmBinary {
  readonly types: readonly FuncSignature[];
  readonly imports: readonly RawImport[];
  /** Type index of each function defined in the module (function section), in order. */
  readonly definedFunctionTypes: readonly number[];
  /** Memories defined (not imported) by the module. */
  readonly definedMemories: readonly Limits[];
  readonly exports: readonly RawExport[];
  readonly hasStartSection: boolean;
  readonly customSections: readonly CustomSection[];
  /** Function names from the custom `name` section, by function index (imports first). */
  readonly functionNames: ReadonlyMap<number, string>;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const VERSION = [0x01, 0x00, 0x00, 0x00];

const SECTION_NAMES: Readonly<Record<number, string>> = {
  0: "custom",
  1: "type",
  2: "import",
  3: "function",
  4: "table",
  5: "memory",
  6: "global",
  7: "export",
  8: "start",
  9: "element",
  10: "code",
  11: "data",
  12: "data count",
  13: "tag",
};

const VAL_TYPES: Readonly<Record<number, ValType>> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};

const EXTERNAL_KINDS: readonly ExternalKind[] = ["function", "table", "memory", "global", "tag"];

/**
 * Parses the sections of a wasm binary that matter for loading (types, imports, functions,
 * memories, exports, start, custom sections and the `name` section's function names). Code,
 * data and the other sections are only skipped; V8 validates them when compiling.
 *
 * @throws WasmParseError for any malformed or truncated input, naming the offending item and
 *   its offset.
 */
export function parseWasmBinary(bytes: Uint8Array): WasmBinary {
  const reader = new ByteReader(bytes);
  expectBytes(reader, MAGIC, "wasm magic number (\\0asm)");
  expectBytes(reader, VERSION, "wasm binary version 1");

  const parsed = {
    types: [] as FuncSignature[],
    imports: [] as RawImport[],
    definedFunctionTypes: [] as number[],
    definedMemories: [] as Limits[],
    exports: [] as RawExport[],
    hasStartSection: false,
    customSections: [] as CustomSection[],
    functionNames: new Map<number, string>(),
  };
  const seen = new Set<number>();

  while (!reader.atEnd) {
    const idOffset = reader.offset;
    const id = reader.u8("section id");
    const sectionName = SECTION_NAMES[id];
    if (sectionName === undefined) reader.fail(`unknown section id ${id}`, idOffset);
    const size = reader.u32(`${sectionName} section size`);
    const section = reader.sub(size, `${sectionName} section`);
    if (id !== 0) {
      if (seen.has(id)) reader.fail(`duplicate ${sectionName} section`, idOffset);
      seen.add(id);
    }
    switch (id) {
      case 0:
        readCustomSection(section, parsed.customSections, parsed.functionNames);
        continue;
      case 1:
        readVector(section, "type", () => parsed.types.push(readFuncType(section)));
        break;
      case 2:
        readVector(section, "import", () => parsed.imports.push(readImport(section)));
        break;
      case 3:
        readVector(section, "function", () => parsed.definedFunctionTypes.push(section.u32("function type index")));
        break;
      case 5:
        readVector(section, "memory", () => parsed.definedMemories.push(readLimits(section, "memory limits")));
        break;
      case 7:
        readVector(section, "export", () => parsed.exports.push(readExport(section)));
        break;
      case 8:
        section.u32("start function index");
        parsed.hasStartSection = true;
        break;
      default:
        // Not needed for linking; V8 validates the content.
        section.skip(size, `${sectionName} section`);
    }
    if (!section.atEnd) {
      section.fail(`${section.end - section.offset} unexpected trailing bytes in ${sectionName} section`);
    }
  }

  checkIndices(parsed, reader);
  return parsed;
}

function expectBytes(reader: ByteReader, expected: readonly number[], what: string): void {
  const start = reader.offset;
  for (const byte of expected) {
    if (reader.atEnd) reader.fail(`unexpected end of data reading ${what}`);
    if (reader.u8(what) !== byte) reader.fail(`bad ${what}`, start);
  }
}

function readVector(reader: ByteReader, item: string, readOne: () => void): void {
  const count = reader.u32(`${item} count`);
  for (let i = 0; i < count; i++) readOne();
}

function readValType(reader: ByteReader, what: string): ValType {
  const offset = reader.offset;
  const code = reader.u8(what);
  const type = VAL_TYPES[code];
  if (type === undefined) reader.fail(`unsupported ${what} 0x${code.toString(16)}`, offset);
  return type;
}

function readFuncType(reader: ByteReader): FuncSignature {
  const offset = reader.offset;
  const form = reader.u8("type form");
  if (form !== 0x60) reader.fail(`unsupported type form 0x${form.toString(16)} (only function types)`, offset);
  const params: ValType[] = [];
  readVector(reader, "parameter", () => params.push(readValType(reader, "parameter type")));
  const results: ValType[] = [];
  readVector(reader, "result", () => results.push(readValType(reader, "result type")));
  return { params, results };
}

function readLimits(reader: ByteReader, what: string): Limits {
  const offset = reader.offset;
  const flags = reader.u8(`${what} flags`);
  if (flags > 0x07) reader.fail(`bad ${what} flags 0x${flags.toString(16)}`, offset);
  const memory64 = (flags & 0x04) !== 0;
  const readBound = (bound: string): number => (memory64 ? readU64Approx(reader, bound) : reader.u32(bound));
  const min = readBound(`${what} minimum`);
  const max = (flags & 0x01) !== 0 ? readBound(`${what} maximum`) : undefined;
  return { min, max, shared: (flags & 0x02) !== 0, memory64 };
}

/** memory64 bounds; precision beyond 2^53 does not matter for reporting. */
function readU64Approx(reader: ByteReader, what: string): number {
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    const byte = reader.u8(what);
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
  }
  return reader.fail(`${what} is an over-long LEB128`);
}

function readKind(reader: ByteReader, what: string): ExternalKind {
  const offset = reader.offset;
  const code = reader.u8(what);
  const kind = EXTERNAL_KINDS[code];
  if (kind === undefined) reader.fail(`unknown ${what} 0x${code.toString(16)}`, offset);
  return kind;
}

function readImport(reader: ByteReader): RawImport {
  const module = reader.name("import module name");
  const name = reader.name("import field name");
  const kind = readKind(reader, "import kind");
  switch (kind) {
    case "function":
      return { module, name, kind, typeIndex: reader.u32("import function type index") };
    case "table": {
      const element = readValType(reader, "table element type");
      return { module, name, kind, element, limits: readLimits(reader, "table limits") };
    }
    case "memory":
      return { module, name, kind, limits: readLimits(reader, "memory limits") };
    case "global": {
      const type = readValType(reader, "global type");
      const mutability = reader.u8("global mutability");
      if (mutability > 1) reader.fail(`bad global mutability ${mutability}`, reader.offset - 1);
      return { module, name, kind, global: { type, mutable: mutability === 1 } };
    }
    case "tag":
      reader.u8("tag attribute");
      return { module, name, kind, typeIndex: reader.u32("tag type index") };
  }
}

function readExport(reader: ByteReader): RawExport {
  const name = reader.name("export name");
  const kind = readKind(reader, "export kind");
  return { name, kind, index: reader.u32("export index") };
}

function readCustomSection(
  section: ByteReader,
  customSections: CustomSection[],
  functionNames: Map<number, string>,
): void {
  const start = section.offset;
  const name = section.name("custom section name");
  customSections.push({ name, size: section.end - start });
  if (name === "name") {
    // V8 ignores a malformed name section, so a bad one must not fail the load; the names are
    // only used to decorate backtraces.
    try {
      readFunctionNames(section, functionNames);
    } catch {
      functionNames.clear();
    }
  }
  section.skip(section.end - section.offset, "custom section");
}

function readFunctionNames(section: ByteReader, functionNames: Map<number, string>): void {
  while (!section.atEnd) {
    const id = section.u8("name subsection id");
    const size = section.u32("name subsection size");
    const sub = section.sub(size, "name subsection");
    if (id !== 1) continue;
    readVector(sub, "function name", () => {
      const index = sub.u32("function index");
      functionNames.set(index, sub.name("function name"));
    });
  }
}

function checkIndices(
  parsed: {
    types: FuncSignature[];
    imports: RawImport[];
    definedFunctionTypes: number[];
    definedMemories: Limits[];
    exports: RawExport[];
  },
  reader: ByteReader,
): void {
  const end = reader.offset;
  for (const entry of parsed.imports) {
    if (entry.kind === "function" && entry.typeIndex! >= parsed.types.length) {
      reader.fail(`import ${entry.module}.${entry.name} uses type ${entry.typeIndex} but only ${parsed.types.length} types exist`, end);
    }
  }
  parsed.definedFunctionTypes.forEach((typeIndex, i) => {
    if (typeIndex >= parsed.types.length) {
      reader.fail(`function ${i} uses type ${typeIndex} but only ${parsed.types.length} types exist`, end);
    }
  });
  const functionCount =
    parsed.imports.filter((entry) => entry.kind === "function").length + parsed.definedFunctionTypes.length;
  const memoryCount =
    parsed.imports.filter((entry) => entry.kind === "memory").length + parsed.definedMemories.length;
  const names = new Set<string>();
  for (const entry of parsed.exports) {
    if (names.has(entry.name)) reader.fail(`duplicate export name "${entry.name}"`, end);
    names.add(entry.name);
    if (entry.kind === "function" && entry.index >= functionCount) {
      reader.fail(`export "${entry.name}" refers to function ${entry.index} but only ${functionCount} exist`, end);
    }
    if (entry.kind === "memory" && entry.index >= memoryCount) {
      reader.fail(`export "${entry.name}" refers to memory ${entry.index} but only ${memoryCount} exist`, end);
    }
  }
}

/** The signature of function `index` (imports first, then defined functions), if it exists. */
export function functionSignature(binary: WasmBinary, index: number): FuncSignature | undefined {
  const imported = binary.imports.filter((entry) => entry.kind === "function");
  const typeIndex =
    index < imported.length ? imported[index]!.typeIndex : binary.definedFunctionTypes[index - imported.length];
  return typeIndex === undefined ? undefined : binary.types[typeIndex];
}
