/**
 * The helper for a filter author's `as-pect.config.js`: a complete as-pect configuration whose
 * `instantiate` hook links the spec module to this package's host through the
 * `proxy_wasm_test` imports.
 *
 *     // as-pect.config.js
 *     import { withProxyWasmHost } from "proxy-wasm-as/testing/aspect";
 *     export default withProxyWasmHost({ filter: "build/my_filter.wasm" });
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { FilterLibrary, type FilterSource } from "./filter-library";
import { SpecModuleFilter } from "./spec-module-filter";
import { createProxyWasmTestImports, TEST_IMPORT_MODULE, type AspectStringExports } from "./test-imports";

/** What as-pect's loader (`@assemblyscript/loader`) returns from `instantiate`. */
export interface AspectInstance {
  readonly exports: Record<string, unknown>;
}

type ImportObject = Record<string, Record<string, unknown>>;

/** The configuration object as-pect 8 reads (the subset this helper fills in or passes on). */
export interface AspectConfig {
  entries: string[];
  include: string[];
  disclude: RegExp[];
  outputBinary: boolean;
  coverage?: string[];
  reporter?: unknown;
  instantiate(
    memory: WebAssembly.Memory,
    createImports: (...imports: ImportObject[]) => ImportObject,
    instantiate: (binary: Uint8Array, imports: ImportObject) => Promise<AspectInstance>,
    binary: Uint8Array,
  ): Promise<AspectInstance>;
}

export interface ProxyWasmAspectOptions {
  /** The built filter `new TestHost()` starts; a relative path is taken from as-pect's working directory. */
  readonly filter?: FilterSource;
  /**
   * The spec module itself is the filter `new TestHost()` starts (instead of `filter`): its own
   * `proxy_*` imports are linked to the host and its exports are the callbacks the host calls, so
   * a spec that registers a root context and re-exports the SDK's exports drives the SDK through
   * the real host. One `TestHost` per spec file. The SDK's own specs run this way.
   */
  readonly specModuleIsFilter?: boolean;
  /** Further filters by name, started with `new TestHost("<name>")`. */
  readonly filters?: Readonly<Record<string, FilterSource>>;
  /** Spec globs (default `assembly/__tests__/**\/*.spec.ts`). */
  readonly entries?: readonly string[];
  /** Files added to every spec compile (default `assembly/__tests__/**\/*.include.ts`). */
  readonly include?: readonly string[];
  /** Spec paths to skip (default `/node_modules/`). */
  readonly disclude?: readonly RegExp[];
  readonly outputBinary?: boolean;
  /**
   * as-pect's reporter: a module path relative to where as-pect runs, whose default export is the
   * reporter. Default: this package's reporter (spec-reporter.ts), which shows each failure with
   * its full name, the expectation and the spec line.
   */
  readonly reporter?: string;
  /**
   * The author's own extra imports (e.g. `{ mock: {...} }` for `@external("mock", ...)`).
   * A function receives the spec module's exports getter, for mocks that exchange strings.
   */
  readonly imports?: ImportObject | ((exports: () => Record<string, unknown>) => ImportObject);
}

function exportsOf(instance: AspectInstance | undefined): AspectStringExports {
  if (instance === undefined) throw new Error("the spec module called a proxy_wasm_test import while it was being instantiated");
  const { __getString, __newString } = instance.exports as Partial<AspectStringExports>;
  if (typeof __getString !== "function" || typeof __newString !== "function") {
    throw new Error("the spec module lacks __getString/__newString: as-pect.asconfig.json must set exportRuntime: true");
  }
  return instance.exports as unknown as AspectStringExports;
}

/**
 * Where as-pect finds this package's reporter, relative to its working directory (as-pect joins
 * the configured path to it). From the sources it is the TypeScript file beside this one; in the
 * published bundle (dist/testing-aspect.mjs) it is dist/testing-aspect-reporter.mjs.
 */
export function defaultReporterPath(cwd = process.cwd()): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith(".ts") ? "spec-reporter.ts" : "testing-aspect-reporter.mjs";
  return relative(cwd, join(dirname(here), file));
}

/** Builds the as-pect configuration. Throws at config load for an unusable option. */
export function withProxyWasmHost(options: ProxyWasmAspectOptions): AspectConfig {
  if (options.specModuleIsFilter === true && options.filter !== undefined) throw new Error("withProxyWasmHost: give either `filter` or `specModuleIsFilter`, not both");
  const filters = new FilterLibrary(options.filter, options.filters);
  return {
    entries: [...(options.entries ?? ["assembly/__tests__/**/*.spec.ts"])],
    include: [...(options.include ?? ["assembly/__tests__/**/*.include.ts"])],
    disclude: [...(options.disclude ?? [/node_modules/])],
    outputBinary: options.outputBinary ?? false,
    reporter: options.reporter ?? defaultReporterPath(),
    async instantiate(memory, createImports, instantiate, binary) {
      // One import table per spec file: hosts and streams never leak from one file to the next.
      let instance: AspectInstance | undefined;
      const self = options.specModuleIsFilter === true ? new SpecModuleFilter(binary) : undefined;
      const testImports = createProxyWasmTestImports(filters, () => exportsOf(instance), self);
      const own = typeof options.imports === "function" ? options.imports(() => exportsOf(instance) as unknown as Record<string, unknown>) : (options.imports ?? {});
      if (TEST_IMPORT_MODULE in own) throw new Error(`withProxyWasmHost: the import module "${TEST_IMPORT_MODULE}" is reserved for the test API`);
      const hostcalls = self?.forwarders() ?? {};
      const env = { memory, ...(hostcalls.env ?? {}), ...(own.env ?? {}) };
      instance = await instantiate(binary, createImports({ ...hostcalls, ...own, env, [TEST_IMPORT_MODULE]: testImports }));
      // The loader's result carries the raw instance too; the host needs its real exports.
      self?.adopt((instance as AspectInstance & { instance?: AspectInstance }).instance ?? instance);
      return instance;
    },
  };
}
