import { ByteReader } from "./byte-reader";
import { InterruptByteWriter } from "./interrupt-byte-writer";

/** Wasm pages are 64 KiB. */
export const WASM_PAGE_BYTES = 64 * 1024;
/**
 * The most linear memory a module may have: 1 GiB, cpp-host's
 * `PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES` (include/proxy-wasm/limits.h), which it passes to
 * V8 as `--wasm_max_mem_pages` (src/v8/v8.cc `engine()`).
 */
export const MAX_WASM_MEMORY_BYTES = 1024 * 1024 * 1024;
export const MAX_WASM_MEMORY_PAGES = MAX_WASM_MEMORY_BYTES / WASM_PAGE_BYTES;
/** Export name under which the host finds the function a module's start section named. */
export const START_FUNCTION_EXPORT = "__pwas_start";

const SECTION_MEMORY = 5;
const SECTION_EXPORT = 7;
const SECTION_START = 8;
const SECTION_CODE = 10;
const EXTERNAL_KIND_FUNCTION = 0x00;
const LIMITS_HAS_MAX = 0x01;
const LIMITS_MEMORY64 = 0x04;

interface Section {
  readonly id: number;
  content: Uint8Array;
}

/** What {@link takeHostControl} changed. */
export interface HostControlledModule {
  /** The bytes to compile: the input itself when nothing needed changing. */
  readonly bytes: Uint8Array;
  /** True when the start section was replaced by the {@link START_FUNCTION_EXPORT} export. */
  readonly startExported: boolean;
  /**
   * What to subtract from a code offset in the rewritten module (a backtrace frame) to get the
   * offset in the module as given. Every edit lies before the code section, so one shift fits all.
   */
  readonly codeOffsetShift: number;
}

/**
 * Rewrites what V8 in Node would run unlike V8 in Envoy, before the module is compiled:
 *
 * - The start section becomes an export, so the host runs the start function itself, after
 *   instantiation, under the callback time limit, and can say what went wrong. cpp-host runs it
 *   inside `wasm::Instance::make` (src/v8/v8.cc `V8::link`), where nothing bounds it.
 * - A defined memory without a maximum, or with one above {@link MAX_WASM_MEMORY_PAGES}, gets that
 *   maximum, so `memory.grow` past 1 GiB returns -1 as under cpp-host's V8 flag (Node has no
 *   per-instance cap). A minimum above the cap is left alone: the VM refuses to instantiate it.
 *
 * The input must have parsed with `parseWasmBinary`; it is not changed.
 *
 * @throws WasmParseError for a malformed binary.
 */
export function takeHostControl(bytes: Uint8Array): HostControlledModule {
  const sections = readSections(bytes);
  const startIndex = sections.findIndex((section) => section.id === SECTION_START);
  let changed = false;
  let startExported = false;
  if (startIndex >= 0) {
    const start = new ByteReader(sections[startIndex]!.content).u32("start function index");
    sections.splice(startIndex, 1);
    addFunctionExport(sections, START_FUNCTION_EXPORT, start);
    changed = startExported = true;
  }
  const memory = sections.find((section) => section.id === SECTION_MEMORY);
  if (memory !== undefined) {
    const capped = capMemories(memory.content);
    if (capped !== null) {
      memory.content = capped;
      changed = true;
    }
  }
  if (!changed) return { bytes, startExported, codeOffsetShift: 0 };
  const out = new InterruptByteWriter(bytes.length + 64);
  out.bytes(bytes.subarray(0, 8));
  let codeOffsetShift = 0;
  for (const section of sections) {
    if (section.id === SECTION_CODE) codeOffsetShift = out.size - codeSectionOffset(bytes);
    out.byte(section.id).u32(section.content.length).bytes(section.content);
  }
  return { bytes: out.toBytes(), startExported, codeOffsetShift };
}

function readSections(bytes: Uint8Array): Section[] {
  const reader = new ByteReader(bytes, 8);
  const sections: Section[] = [];
  while (!reader.atEnd) {
    const id = reader.u8("section id");
    const size = reader.u32("section size");
    sections.push({ id, content: reader.bytesOf(size, `section ${id}`) });
  }
  return sections;
}

/** Offset of the code section's id byte in `bytes` (the input has one when this is asked). */
function codeSectionOffset(bytes: Uint8Array): number {
  const reader = new ByteReader(bytes, 8);
  for (;;) {
    const at = reader.offset;
    const id = reader.u8("section id");
    const size = reader.u32("section size");
    if (id === SECTION_CODE) return at;
    reader.skip(size, `section ${id}`);
  }
}

function addFunctionExport(sections: Section[], name: string, functionIndex: number): void {
  let exports = sections.find((section) => section.id === SECTION_EXPORT);
  if (exports === undefined) {
    exports = { id: SECTION_EXPORT, content: new Uint8Array([0]) };
    // Before the first section that must follow the export section (start, element, code, ...).
    const at = sections.findIndex((section) => section.id !== 0 && section.id >= SECTION_START && section.id !== 13);
    sections.splice(at < 0 ? sections.length : at, 0, exports);
  }
  const reader = new ByteReader(exports.content);
  const count = reader.u32("export count");
  const entries = exports.content.subarray(reader.offset);
  exports.content = new InterruptByteWriter(entries.length + name.length + 16)
    .u32(count + 1)
    .bytes(entries)
    .name(name)
    .byte(EXTERNAL_KIND_FUNCTION)
    .u32(functionIndex)
    .toBytes();
}

/** The memory section with every uncapped 32-bit memory capped, or null when none needed it. */
function capMemories(content: Uint8Array): Uint8Array | null {
  const reader = new ByteReader(content);
  const count = reader.u32("memory count");
  const out = new InterruptByteWriter(content.length + 8).u32(count);
  let changed = false;
  for (let i = 0; i < count; i++) {
    const flags = reader.u8("memory limits flags");
    if ((flags & LIMITS_MEMORY64) !== 0) return null; // memory64 is not compiled by this Node anyway
    const min = reader.u32("memory minimum");
    const max = (flags & LIMITS_HAS_MAX) !== 0 ? reader.u32("memory maximum") : undefined;
    if (min <= MAX_WASM_MEMORY_PAGES && (max === undefined || max > MAX_WASM_MEMORY_PAGES)) {
      out.byte(flags | LIMITS_HAS_MAX).u32(min).u32(MAX_WASM_MEMORY_PAGES);
      changed = true;
    } else {
      out.byte(flags).u32(min);
      if (max !== undefined) out.u32(max);
    }
  }
  return changed ? out.bytes(content.subarray(reader.offset)).toBytes() : null;
}
