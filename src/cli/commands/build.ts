import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseFlags } from "../parse-flags";
import { describeModule, loadCheckedModule, MISSING_MEMORY_MESSAGE, ModuleLoadError, type ModuleExport } from "../../host/module";
import { withoutSourceMappingUrl } from "../../host/module/wasm-sections";
import { sourceMapPathBeside } from "../../host/source-map/source-map-file";
import { buildFingerprint, isUpToDate, stampPath, writeStamp } from "../build-stamp";
import { UsageError, type CliIo } from "../cli-io";
import { sdkRoot } from "../sdk-paths";
import { styleFor } from "../terminal-style";
import { watchUntilStopped, type WatchRoots } from "../watch-sources";

export const BUILD_USAGE = `Usage: proxy-wasm-as build [options] [entry]

Compiles a filter with the SDK's compiler flags, then checks the module as Envoy would load it
(ABI marker, allocator, only imports Envoy provides) and prints its size and sha256.

Options:
  entry                 AssemblyScript entry file (default: assembly/index.ts)
  --debug               debug target (unoptimised, with function names)
  -o, --out <file>      output file (default: build/<package name>.wasm, .debug.wasm for --debug)
  --config <file>       asconfig.json to use (default: ./asconfig.json, else the SDK's)
  --force               compile even when the module is up to date
  --watch               build, then build again on every change of the sources or asconfig
                        (until Ctrl-C); the compiler stays loaded between builds
  -h, --help            this help

Every build writes the module's source map beside it (<out>.map): failure reports of the test
kit, as-pect specs and the dev proxy then name the AssemblyScript file, line and column, and
--inspect shows the sources in a debugger. The module itself carries no reference to the map.

A build is skipped when a stamp beside the module (<out>.stamp) shows that nothing it depends on
changed: the files under the entry's folder, the asconfig chain, the SDK (assembly/, transform/),
the compiler version and the flags.
`;

/** What a successful build produced. */
export interface BuildResult {
  outFile: string;
  sizeBytes: number;
  sha256: string;
  abiVersion: string | null;
}

/**
 * `build`: returns 0 when the module compiled and passed the load checks, 1 when asc reported
 * errors (printed as asc prints them) or the module would not load in Envoy (each problem and
 * its hint printed), 2 on a usage error.
 */
export async function buildCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      debug: { type: "boolean", default: false },
      out: { type: "string", short: "o" },
      config: { type: "string" },
      force: { type: "boolean", default: false },
      watch: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(BUILD_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`build takes one entry file, got ${positionals.length}`);
  const options: BuildOptions = {
    entry: positionals[0],
    debug: values.debug ?? false,
    out: values.out,
    config: values.config,
    incremental: !values.force,
  };
  const result = await buildFilter(io, options);
  if (!values.watch) return result === null ? 1 : 0;
  // A failed first build is what watch mode is for: keep watching and build again on the fix.
  await watchUntilStopped(io, buildWatchRoots(io.cwd, options), async () => {
    await buildFilter(io, { ...options, incremental: true });
  });
  return 0;
}

export interface BuildOptions {
  entry?: string;
  debug: boolean;
  out?: string;
  config?: string;
  /**
   * Skip the compile when the stamp beside the output shows the same inputs (see build-stamp.ts);
   * the module is still checked and described. Off unless asked: a test that builds on purpose gets
   * a build.
   */
  incremental?: boolean;
  /** What the progress line calls this build (default: the entry file); `npm run build` gives the example's name. */
  label?: string;
  /**
   * Extra asc transforms (classes or instances), after the config's (e.g. the coverage one). Such a
   * build is never up to date and leaves no stamp, so the next plain build replaces its module.
   */
  transforms?: readonly unknown[];
}

/**
 * The files whose change means a rebuild in `--watch`: the entry's folder (recursively) and the
 * project's asconfig.json / package.json.
 */
export function buildWatchRoots(cwd: string, options: Pick<BuildOptions, "entry" | "config">): WatchRoots {
  const entry = resolve(cwd, options.entry ?? "assembly/index.ts");
  return { folders: [dirname(entry)], files: [resolve(cwd, options.config ?? "asconfig.json"), join(cwd, "package.json")] };
}

/** Compiles and checks; prints the outcome. Returns null after printing why it failed. */
export async function buildFilter(io: CliIo, options: BuildOptions): Promise<BuildResult | null> {
  const cwd = io.cwd;
  const style = styleFor(io.stderr, io.env);
  const entry = resolve(cwd, options.entry ?? "assembly/index.ts");
  if (!existsSync(entry)) {
    io.stderr.write(`${style.fail("error:")} entry file ${relative(cwd, entry) || entry} not found\n`);
    return null;
  }
  const config = resolve(cwd, options.config ?? (existsSync(join(cwd, "asconfig.json")) ? "asconfig.json" : join(sdkRoot(), "asconfig.json")));
  if (!existsSync(config)) {
    io.stderr.write(`${style.fail("error:")} asconfig ${config} not found\n`);
    return null;
  }
  const target = options.debug ? "debug" : "release";
  const outFile = resolve(cwd, options.out ?? defaultOutFile(cwd, options.debug));
  const shownOut = relative(cwd, outFile) || outFile;
  const label = options.label ?? (relative(cwd, entry) || entry);
  // Paths are relative to --baseDir, which is also where asc looks for node_modules. Every build
  // writes its source map beside the module (`--sourceMap`), for failure reports and debuggers.
  const ascArgs = (configPath: string) => [
    relative(cwd, entry),
    "--config",
    relative(cwd, configPath),
    "--target",
    target,
    "--outFile",
    relative(cwd, outFile),
    "--sourceMap",
    "--baseDir",
    cwd,
  ];
  const mapFile = sourceMapPathBeside(outFile);
  // Computed before the temporary config copy exists, so the copy is never an input.
  const fingerprint = buildFingerprint({ projectDir: cwd, entry, config, ascArgs: ascArgs(config), sdkRoot: sdkRoot(), outFile });
  const transformed = options.transforms !== undefined && options.transforms.length > 0;
  if (transformed) rmSync(stampPath(outFile), { force: true });
  // The map is an output too: a module whose map was deleted is built again.
  if (options.incremental && !transformed && isUpToDate(outFile, fingerprint) && existsSync(mapFile)) {
    io.stderr.write(style.dim(`  ${label} (${target}) is up to date: sources, SDK, compiler and flags unchanged since ${shownOut} was built\n`));
    return checkBuiltModule(io, outFile);
  }
  mkdirSync(dirname(outFile), { recursive: true });
  io.stderr.write(style.dim(`  building ${label} (${target}) → ${shownOut} …\n`));
  const started = performance.now();

  // asc is loaded lazily: it is large, and `run`/`init` never need it. Node caches the import, so a
  // watch loop pays for loading it once.
  const asc = (await import("assemblyscript/asc")).default;
  // asc adds a config's `entries` to the entry given on the command line; the entry asked for must
  // be the only one, so compile against a copy of the config without them.
  const effectiveConfig = withoutEntries(config);
  const written = new Set<string>();
  try {
    // asc returns compile errors, but throws for a config it cannot read (not JSON, bad extends).
    const { error } = await asc
      .main(ascArgs(effectiveConfig.path), {
        ...(transformed ? { transforms: [...options.transforms!] } : {}),
        stdout: { write: (chunk: string | Uint8Array) => (io.stdout.write(String(chunk)), true) },
        stderr: { write: (chunk: string | Uint8Array) => (io.stderr.write(String(chunk)), true) },
        writeFile: (name: string, contents: string | Uint8Array, baseDir: string) => writeOutput(resolve(baseDir, name), contents, outFile, written),
      } as never)
      .catch((thrown: unknown) => ({ error: thrown instanceof Error ? thrown : new Error(String(thrown)) }));
    if (error) {
      io.stderr.write(`${style.fail("✗ build failed:")} ${error.message}\n`);
      return null;
    }
  } finally {
    effectiveConfig.dispose();
  }
  io.stderr.write(style.dim(`  compiled ${label} in ${seconds(started)}\n`));
  if (!checkSourceMap(io, outFile, mapFile, written)) return null;
  const result = checkBuiltModule(io, outFile);
  if (result !== null && !transformed) writeStamp(outFile, fingerprint, result.sha256);
  return result;
}

/**
 * Writes a file asc produced. asc puts a `sourceMappingURL` section naming the map into the
 * module; the module that ships must not carry it (Envoy never reads it, and it costs bytes), so
 * it is taken out before the module is written (once: a `run --watch` reloads on each write),
 * leaving the map beside the module (`<module>.map`), where the host and `--inspect` look for it.
 * The section is the last one, so no code offset in the map moves.
 */
function writeOutput(path: string, contents: string | Uint8Array, outFile: string, written: Set<string>): boolean {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, path === outFile && typeof contents !== "string" ? withoutSourceMappingUrl(contents) : contents);
    written.add(path);
    return true;
  } catch {
    // asc reports a write that failed.
    return false;
  }
}

/** Returns false after printing why, when asc wrote no source map beside the module in this build. */
function checkSourceMap(io: CliIo, outFile: string, mapFile: string, written: ReadonlySet<string>): boolean {
  const style = styleFor(io.stderr, io.env);
  if (!written.has(mapFile)) {
    io.stderr.write(`${style.fail("✗ build failed:")} the compiler wrote no source map beside ${relative(io.cwd, outFile) || outFile}\n`);
    return false;
  }
  io.stderr.write(style.dim(`  source map → ${relative(io.cwd, mapFile) || mapFile}\n`));
  return true;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/**
 * `config` itself when it lists no `entries`; otherwise a temporary copy without them, written
 * beside it so that its relative `extends` and output paths keep their meaning.
 */
function withoutEntries(config: string): { path: string; dispose(): void } {
  let parsed: { entries?: unknown };
  try {
    parsed = JSON.parse(readFileSync(config, "utf8")) as typeof parsed;
  } catch {
    // Not JSON: asc reports it, naming the file, when it reads the config.
    return { path: config, dispose: () => undefined };
  }
  if (parsed.entries === undefined) return { path: config, dispose: () => undefined };
  delete parsed.entries;
  const copy = join(dirname(config), `.asconfig.build-${process.pid}-${Date.now()}.json`);
  writeFileSync(copy, JSON.stringify(parsed));
  return { path: copy, dispose: () => rmSync(copy, { force: true }) };
}

/** Runs the host's load checks on a built module and prints size, sha256 and ABI version. */
export function checkBuiltModule(io: CliIo, outFile: string): BuildResult | null {
  const bytes = readFileSync(outFile);
  const shown = relative(io.cwd, outFile) || outFile;
  const style = styleFor(io.stdout, io.env);
  const errorStyle = styleFor(io.stderr, io.env);
  try {
    const { info } = loadCheckedModule(bytes);
    const summary = describeModule(info);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    io.stdout.write(`${style.ok("✓")} ${shown}  ${bytes.length} bytes  sha256 ${sha256}\n`);
    io.stdout.write(`  ABI ${summary.abiVersion}, allocator ${summary.allocator}, ${summary.imports.length} imports, ${summary.exports.length} exports\n`);
    io.stdout.write(`  callbacks: ${exportedCallbacks(info.exports).join(", ") || "none"}\n`);
    if (info.memory === null) {
      io.stderr.write(`  ${errorStyle.warn("warning:")} ${MISSING_MEMORY_MESSAGE}; Envoy loads it, then crashes at the first hostcall that reads or writes memory\n`);
    }
    return { outFile, sizeBytes: bytes.length, sha256, abiVersion: summary.abiVersion };
  } catch (error) {
    if (!(error instanceof ModuleLoadError)) throw error;
    io.stderr.write(`${errorStyle.fail("✗")} ${shown} would not load in Envoy:\n${indent(error.report)}\n`);
    return null;
  }
}

/**
 * The Proxy-Wasm callbacks a module exports, in export order. The SDK's asconfig drops the
 * callbacks a filter does not implement (transform/proxy-wasm-exports.mjs), so this line tells
 * the author which callbacks the host will call.
 */
function exportedCallbacks(exports: readonly ModuleExport[]): string[] {
  return exports
    .filter((entry) => entry.kind === "function" && /^proxy_(on|validate)_/.test(entry.name) && entry.name !== "proxy_on_memory_allocate")
    .map((entry) => entry.name);
}

/** `build/<package name>.wasm`, or `build/filter.wasm` without a package.json name. */
export function defaultOutFile(cwd: string, debug: boolean): string {
  let name = "filter";
  try {
    const pkg = JSON.parse(readFileSync(join(cwd, "package.json"), "utf8")) as { name?: string };
    if (pkg.name) name = pkg.name.replace(/^@[^/]+\//, "").replace(/[^a-zA-Z0-9_.-]/g, "_");
  } catch {
    // no package.json: keep the generic name
  }
  return join("build", debug ? `${name}.debug.wasm` : `${name}.wasm`);
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
