/**
 * Finds and reads a module's source map: the file given, or `<module>.wasm.map` beside the module
 * (where `proxy-wasm-as build` writes it for release and debug builds alike).
 */
import { readFileSync } from "node:fs";
import { ModuleSourceMap } from "./module-source-map";
import { SourceMapError } from "./source-map-error";

/** `<module>.map`: where asc and `proxy-wasm-as build` write a module's source map. */
export function sourceMapPathBeside(wasmPath: string): string {
  return `${wasmPath}.map`;
}

export interface SourceMapLookup {
  /** The module file; its map is looked for beside it when `mapPath` is not given. */
  readonly wasmPath?: string;
  /** The map to use; it must exist and be readable. `false`: use none. */
  readonly mapPath?: string | false;
  /** Told why a map found beside the module was not used (it did not parse). */
  readonly onProblem?: (message: string) => void;
}

/**
 * The source map for `moduleBytes`, or undefined when there is none (no `mapPath`, nothing beside
 * the module, or `mapPath: false`). A map found beside the module that cannot be read is reported
 * to `onProblem` and not used: failure reports then fall back to function names.
 *
 * @throws SourceMapError when the `mapPath` given cannot be read or parsed.
 */
export function loadSourceMap(moduleBytes: Uint8Array, lookup: SourceMapLookup): ModuleSourceMap | undefined {
  if (lookup.mapPath === false) return undefined;
  if (lookup.mapPath !== undefined) return readMap(moduleBytes, lookup.mapPath);
  if (lookup.wasmPath === undefined) return undefined;
  const beside = sourceMapPathBeside(lookup.wasmPath);
  let text: string;
  try {
    text = readFileSync(beside, "utf8");
  } catch {
    return undefined;
  }
  try {
    return ModuleSourceMap.create(moduleBytes, text, beside);
  } catch (error) {
    lookup.onProblem?.(`source map ${beside} not used: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

function readMap(moduleBytes: Uint8Array, path: string): ModuleSourceMap {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SourceMapError(`cannot read source map ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    return ModuleSourceMap.create(moduleBytes, text, path);
  } catch (error) {
    throw new SourceMapError(`source map ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
