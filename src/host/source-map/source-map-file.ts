/**
 * Finds and reads a module's source map: the file given, or `<module>.wasm.map` beside the module
 * (where `proxy-wasm-as build` writes it for release and debug builds alike).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { debuggerSourceMap } from "./debugger-source-map";
import { ModuleSourceMap } from "./module-source-map";
import { isUserSource } from "./wasm-source-map";
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

/**
 * The map's text for a debugger (`LoadModuleOptions.debuggerSourceMap`): its `sourceRoot` set to
 * the folder its sources are relative to (asc writes them relative to the project folder it
 * compiled in, e.g. `assembly/index.ts`), found as the nearest folder at or above the map's own
 * that holds its first user source, so DevTools and VS Code open and bind the files on disk. The
 * library sources (`~lib/...`) are shown from the map's `sourcesContent`. Left unrooted when no
 * such folder is found.
 */
export function debuggerMapText(map: ModuleSourceMap): string {
  const userSource = map.map.sources.find(isUserSource);
  let root: string | undefined;
  if (userSource !== undefined) {
    for (let dir = dirname(map.origin); ; dir = dirname(dir)) {
      if (existsSync(join(dir, userSource))) {
        root = `${pathToFileURL(dir).href}/`;
        break;
      }
      if (dirname(dir) === dir) break;
    }
  }
  return debuggerSourceMap(map.text, 0, root);
}
