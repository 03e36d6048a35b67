/**
 * A WebAssembly source map (Source Map v3 as Binaryen writes it for asc's `--sourceMap`): one
 * generated "line" whose columns are byte offsets in the module, mapped to source positions.
 * Only what failure reports need: the position of a code offset (the nearest mapping at or before
 * it, as DevTools resolves wasm locations), and for a frame whose code was inlined from a library,
 * the nearest mapping before it in the same function that lies in the user's own code.
 */
import { SourceMapError } from "./source-map-error";

/** A position in a source file; `line` and `column` count from 1, as editors and asc's abort do. */
export interface SourcePosition {
  readonly source: string;
  readonly line: number;
  readonly column: number;
}

/** Sources under `~lib/` are the AssemblyScript standard library and packages (the SDK among them). */
export const LIBRARY_SOURCE_PREFIX = "~lib/";

/** True for a source the filter author wrote (not the standard library, not a package such as the SDK). */
export function isUserSource(source: string): boolean {
  return !source.startsWith(LIBRARY_SOURCE_PREFIX);
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) BASE64_VALUE[BASE64.charCodeAt(i)] = i;

export class WasmSourceMap {
  /** Sorted code offsets that start a mapping. */
  private readonly offsets: number[] = [];
  /** Per mapping: the index into `sources`, or -1 for a mapping without a source. */
  private readonly sourceIndexes: number[] = [];
  private readonly lines: number[] = [];
  private readonly columns: number[] = [];

  private constructor(readonly sources: readonly string[]) {}

  /**
   * Parses a source map's JSON text.
   *
   * @throws SourceMapError when the text is not JSON, not a version 3 map, or its mappings are malformed.
   */
  static parse(text: string): WasmSourceMap {
    let json: { version?: unknown; sources?: unknown; mappings?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch (error) {
      throw new SourceMapError(`not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (json === null || typeof json !== "object" || json.version !== 3) throw new SourceMapError("not a version 3 source map");
    if (!Array.isArray(json.sources) || typeof json.mappings !== "string") throw new SourceMapError("no sources or mappings");
    const map = new WasmSourceMap(json.sources.map(String));
    map.decode(json.mappings);
    return map;
  }

  /** The number of mappings (0 for a map that maps nothing). */
  get size(): number {
    return this.offsets.length;
  }

  /**
   * The first code offset mapped to `line` (from 1) of `source`, or undefined: where a debugger
   * puts a breakpoint set on that line.
   */
  firstOffsetAt(source: string, line: number): number | undefined {
    const sourceIndex = this.sources.indexOf(source);
    for (let index = 0; index < this.offsets.length; index++) {
      if (this.sourceIndexes[index] === sourceIndex && this.lines[index] === line - 1) return this.offsets[index];
    }
    return undefined;
  }

  /** The source position of the code at `offset` (module-relative), or null when nothing maps it. */
  positionAt(offset: number): SourcePosition | null {
    return this.positionOf(this.mappingAt(offset));
  }

  /**
   * The nearest mapped position at or before `offset` and not before `notBefore` (the start of the
   * function's body): Binaryen ends a mapping with a source-less one where code has no position
   * (the code it adds itself), and such code belongs to the statement before it.
   */
  positionAtOrBefore(offset: number, notBefore: number): SourcePosition | null {
    return this.nearest(offset, notBefore, () => true);
  }

  /**
   * The nearest position at or before `offset`, and not before `notBefore` (the start of the
   * function's body), that lies in the user's code; null when there is none. A release build
   * inlines library code (an array's bounds check) into the user's function, so the frame's own
   * position is in `~lib/`; the user's statement that led there is the last user mapping before it.
   */
  userPositionAtOrBefore(offset: number, notBefore: number): SourcePosition | null {
    return this.nearest(offset, notBefore, isUserSource);
  }

  private nearest(offset: number, notBefore: number, accept: (source: string) => boolean): SourcePosition | null {
    for (let index = this.mappingAt(offset); index >= 0 && this.offsets[index]! >= notBefore; index--) {
      const position = this.positionOf(index);
      if (position !== null && accept(position.source)) return position;
    }
    return null;
  }

  private positionOf(index: number): SourcePosition | null {
    if (index < 0) return null;
    const source = this.sourceIndexes[index]!;
    if (source < 0) return null;
    return { source: this.sources[source] ?? `<source ${source}>`, line: this.lines[index]! + 1, column: this.columns[index]! + 1 };
  }

  /** The index of the last mapping at or before `offset`, or -1. */
  private mappingAt(offset: number): number {
    let low = 0;
    let high = this.offsets.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.offsets[middle]! <= offset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /** Decodes the Base64 VLQ `mappings` (segments of 1, 4 or 5 fields, each relative to the previous). */
  private decode(mappings: string): void {
    let offset = 0;
    let source = 0;
    let line = 0;
    let column = 0;
    const fields: number[] = [];
    let at = 0;
    const readSegment = (end: number): void => {
      fields.length = 0;
      while (at < end) {
        let value = 0;
        let shift = 0;
        for (;;) {
          if (at >= end) throw new SourceMapError(`a number runs past the end of its segment at ${at}`);
          const digit = BASE64_VALUE[mappings.charCodeAt(at++)] ?? -1;
          if (digit < 0) throw new SourceMapError(`bad character in mappings at ${at - 1}`);
          value += (digit & 31) * 2 ** shift;
          shift += 5;
          if ((digit & 32) === 0) break;
          if (shift > 35) throw new SourceMapError(`number too long in mappings at ${at}`);
        }
        fields.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
      }
    };
    while (at < mappings.length) {
      let end = at;
      while (end < mappings.length && mappings[end] !== "," && mappings[end] !== ";") end++;
      if (mappings[end] === ";") throw new SourceMapError("a wasm source map has one line of mappings");
      if (end > at) {
        readSegment(end);
        if (fields.length !== 1 && fields.length !== 4 && fields.length !== 5) throw new SourceMapError(`a mapping segment has ${fields.length} fields`);
        offset += fields[0]!;
        if (fields.length >= 4) {
          source += fields[1]!;
          line += fields[2]!;
          column += fields[3]!;
        }
        if (this.offsets.length > 0 && offset < this.offsets[this.offsets.length - 1]!) throw new SourceMapError("mappings are not in offset order");
        this.offsets.push(offset);
        this.sourceIndexes.push(fields.length >= 4 ? source : -1);
        this.lines.push(line);
        this.columns.push(column);
      }
      at = end + 1;
    }
  }
}
