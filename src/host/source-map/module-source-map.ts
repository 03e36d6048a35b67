/**
 * A source map bound to the module it describes: looks code offsets up without leaving the
 * function they lie in, which is what a backtrace frame needs.
 */
import { functionBodyStarts } from "../module/wasm-sections";
import { WasmSourceMap, type SourcePosition } from "./wasm-source-map";

/** Where one backtrace frame's code came from. */
export interface FrameSource {
  /** The position of the frame's code (library code inlined into a user function maps to the library). */
  readonly position: SourcePosition | null;
  /** The nearest position in the user's own code in the same function, at or before the frame's. */
  readonly userPosition: SourcePosition | null;
}

export class ModuleSourceMap {
  private constructor(
    readonly map: WasmSourceMap,
    private readonly bodyStarts: readonly number[],
    /** Where the map came from (a path), for messages. */
    readonly origin: string,
    /** The map's JSON text, as read. */
    readonly text: string,
  ) {}

  /**
   * Binds the map's JSON text to the module as given (its bytes before the host rewrote them).
   *
   * @throws SourceMapError for a map that cannot be read; WasmParseError for a malformed module.
   */
  static create(moduleBytes: Uint8Array, mapText: string, origin: string): ModuleSourceMap {
    return new ModuleSourceMap(WasmSourceMap.parse(mapText), functionBodyStarts(moduleBytes), origin, mapText);
  }

  /** The sources of the code at module offset `offset` (an offset in the module as given). */
  frameSource(offset: number): FrameSource {
    const functionStart = this.functionStartOf(offset);
    return { position: this.map.positionAtOrBefore(offset, functionStart), userPosition: this.map.userPositionAtOrBefore(offset, functionStart) };
  }

  /** The start of the body holding `offset`; 0 when the offset is before every body. */
  private functionStartOf(offset: number): number {
    let low = 0;
    let high = this.bodyStarts.length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.bodyStarts[middle]! <= offset) {
        found = this.bodyStarts[middle]!;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }
}

/** `file:line:column`, as editors and asc's abort messages write a position. */
export function formatPosition(position: SourcePosition): string {
  return `${position.source}:${position.line}:${position.column}`;
}
