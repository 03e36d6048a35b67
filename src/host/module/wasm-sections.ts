/**
 * Section-level reading and editing of a wasm binary, for what source maps need: where each
 * function body starts (to keep a backtrace frame's source lookup inside its own function), and
 * the `sourceMappingURL` custom section (written by asc, stripped from release modules, added to
 * the copy a debugger loads).
 */
import { ByteReader } from "./byte-reader";
import { InterruptByteWriter } from "./interrupt-byte-writer";

/** The custom section V8 reads to find a wasm module's source map (DevTools, `--inspect`). */
export const SOURCE_MAPPING_URL_SECTION = "sourceMappingURL";

const SECTION_CUSTOM = 0;
const SECTION_CODE = 10;
const HEADER_BYTES = 8;

/** One section: its id, its name when custom, and where it lies (header included) in the binary. */
interface SectionSpan {
  readonly id: number;
  readonly name: string | undefined;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** @throws WasmParseError for a malformed binary. */
function sectionSpans(bytes: Uint8Array): SectionSpan[] {
  const reader = new ByteReader(bytes, HEADER_BYTES);
  if (bytes.length < HEADER_BYTES) reader.fail("not a wasm binary (shorter than its 8-byte header)", 0);
  const spans: SectionSpan[] = [];
  while (!reader.atEnd) {
    const start = reader.offset;
    const id = reader.u8("section id");
    const size = reader.u32("section size");
    const content = reader.sub(size, "section");
    const contentStart = content.offset;
    spans.push({ id, name: id === SECTION_CUSTOM ? content.name("custom section name") : undefined, start, contentStart, end: content.end });
  }
  return spans;
}

/**
 * The module-relative offset where each defined function's body starts (its size field), in
 * function order; empty for a module without code. Backtrace offsets and source maps use the
 * same module-relative offsets.
 *
 * @throws WasmParseError for a malformed binary.
 */
export function functionBodyStarts(bytes: Uint8Array): number[] {
  const code = sectionSpans(bytes).find((span) => span.id === SECTION_CODE);
  if (code === undefined) return [];
  const reader = new ByteReader(bytes, code.contentStart, code.end);
  const count = reader.u32("function body count");
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    starts.push(reader.offset);
    reader.skip(reader.u32("function body size"), "function body");
  }
  return starts;
}

/** The text of the module's `sourceMappingURL` section, or undefined when it has none. */
export function sourceMappingUrlOf(bytes: Uint8Array): string | undefined {
  const span = sectionSpans(bytes).find((s) => s.name === SOURCE_MAPPING_URL_SECTION);
  if (span === undefined) return undefined;
  const reader = new ByteReader(bytes, span.contentStart, span.end);
  reader.name("custom section name");
  return reader.name("source map URL");
}

/**
 * The module without its `sourceMappingURL` section(s): `bytes` itself when it has none. Code
 * offsets do not move when the section is last, as asc (Binaryen) writes it.
 *
 * @throws WasmParseError for a malformed binary.
 */
export function withoutSourceMappingUrl(bytes: Uint8Array): Uint8Array {
  const spans = sectionSpans(bytes).filter((span) => span.name === SOURCE_MAPPING_URL_SECTION);
  if (spans.length === 0) return bytes;
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const span of spans) {
    parts.push(bytes.subarray(from, span.start));
    from = span.end;
  }
  parts.push(bytes.subarray(from));
  return concat(parts);
}

/**
 * The module with one `sourceMappingURL` section naming `url`, added at the end (after any
 * existing one is removed), where it moves no code offset.
 *
 * @throws WasmParseError for a malformed binary.
 */
export function withSourceMappingUrl(bytes: Uint8Array, url: string): Uint8Array {
  const content = new InterruptByteWriter().name(SOURCE_MAPPING_URL_SECTION).name(url).toBytes();
  const section = new InterruptByteWriter().byte(SECTION_CUSTOM).u32(content.length).bytes(content).toBytes();
  return concat([withoutSourceMappingUrl(bytes), section]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
