/**
 * The built filters a spec may start, by name, as listed in the config helper. Files are read
 * when a spec first starts that filter, so a config loads even before the filter is built, and
 * the error then says which file is missing.
 */
import { existsSync, readFileSync } from "node:fs";
import { sourceMapPathBeside } from "../../host/source-map/source-map-file";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A filter module: a path (relative to the directory as-pect runs in), a file URL or the bytes. */
export type FilterSource = string | URL | Uint8Array;

export class FilterLibrary {
  private readonly sources = new Map<string, FilterSource>();
  private readonly loaded = new Map<string, Uint8Array>();

  /**
   * @param defaultFilter the filter `new TestHost()` starts (name ""), if any
   * @param named further filters, started with `new TestHost("<name>")`
   * @param baseDir what relative paths are resolved against (as-pect's working directory)
   */
  constructor(defaultFilter: FilterSource | undefined, named: Readonly<Record<string, FilterSource>> = {}, private readonly baseDir = process.cwd()) {
    if (defaultFilter !== undefined) this.sources.set("", defaultFilter);
    for (const [name, source] of Object.entries(named)) {
      if (name === "") throw new Error('withProxyWasmHost: a named filter needs a non-empty name (use `filter` for the default one)');
      this.sources.set(name, source);
    }
  }

  /** Where `source` lives, for messages. */
  private describe(source: FilterSource): string {
    if (source instanceof Uint8Array) return `<${source.length} bytes>`;
    if (source instanceof URL) return fileURLToPath(source);
    return isAbsolute(source) ? source : resolve(this.baseDir, source);
  }

  /**
   * The source map beside filter `name`'s module file (`<module>.map`, written by `build`), when
   * there is one, so failure reports in specs name the filter's source lines; undefined for a
   * filter given as bytes or built without a map.
   */
  sourceMap(name: string): string | undefined {
    const source = this.sources.get(name);
    if (source === undefined || source instanceof Uint8Array) return undefined;
    const beside = sourceMapPathBeside(this.describe(source));
    return existsSync(beside) ? beside : undefined;
  }

  /** The module bytes of filter `name` ("" = default); throws an Error saying what is missing. */
  bytes(name: string): Uint8Array {
    const cached = this.loaded.get(name);
    if (cached !== undefined) return cached;
    const source = this.sources.get(name);
    if (source === undefined) {
      const known = [...this.sources.keys()].map((k) => (k === "" ? "(default)" : `"${k}"`)).join(", ") || "none";
      throw new Error(name === "" ? `no default filter: give withProxyWasmHost a \`filter\` (known filters: ${known})` : `no filter named "${name}" in the as-pect config (known filters: ${known})`);
    }
    let bytes: Uint8Array;
    if (source instanceof Uint8Array) {
      bytes = source;
    } else {
      const path = this.describe(source);
      try {
        bytes = new Uint8Array(readFileSync(path));
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new Error(`cannot read filter ${path} (${reason}); build the filter before running the specs`);
      }
    }
    this.loaded.set(name, bytes);
    return bytes;
  }
}
