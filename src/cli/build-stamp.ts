import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";

/**
 * What decides a build's output. Two builds with the same fingerprint write the same module, so the
 * second can be skipped: the project's sources (every file under the entry's folder), the asconfig
 * and the configs it extends, the SDK (its `assembly/`, `transform/` and base asconfig), the
 * compiler's version and the compiler arguments.
 */
export interface BuildInputs {
  /** The project folder (asc's --baseDir); paths in the fingerprint are relative to it. */
  projectDir: string;
  /** Absolute path of the entry file; its folder holds the project's sources. */
  entry: string;
  /** Absolute path of the asconfig given to asc. */
  config: string;
  /** The arguments given to asc, apart from the temporary config path. */
  ascArgs: readonly string[];
  /** Root of the SDK package the sources import (`proxy-wasm-as/assembly`). */
  sdkRoot: string;
  /** Where the module is written: never an input, even when it sits under the entry's folder. */
  outFile: string;
}

/** The stamp written beside a module: the fingerprint it was built from and the module's sha256. */
export interface BuildStamp {
  fingerprint: string;
  wasmSha256: string;
}

/** Spec and test folders: as-pect compiles them, a filter build never reads them. */
const NOT_BUILD_INPUT = new Set(["__tests__", "node_modules", ".git"]);

/** `<module>.stamp`, beside the module it describes. */
export function stampPath(outFile: string): string {
  return `${outFile}.stamp`;
}

/** The sha256 (hex) of everything in {@link BuildInputs}. */
export function buildFingerprint(inputs: BuildInputs): string {
  const hash = createHash("sha256");
  const add = (label: string, value: string | Buffer): void => {
    hash.update(`${label}\0${value.length}\0`);
    hash.update(value);
  };
  add("asc", compilerVersion());
  add("args", JSON.stringify(inputs.ascArgs));
  for (const config of configChain(inputs.config)) add(`config ${relative(inputs.projectDir, config)}`, readFileSync(config));
  const outDir = dirname(inputs.outFile);
  for (const file of filesUnder(dirname(inputs.entry), outDir)) add(`source ${relative(inputs.projectDir, file)}`, readFileSync(file));
  for (const folder of ["assembly", "transform"]) {
    for (const file of filesUnder(join(inputs.sdkRoot, folder))) add(`sdk ${relative(inputs.sdkRoot, file)}`, readFileSync(file));
  }
  const sdkConfig = join(inputs.sdkRoot, "asconfig.json");
  if (existsSync(sdkConfig)) add("sdk asconfig.json", readFileSync(sdkConfig));
  return hash.digest("hex");
}

/**
 * True when `outFile` exists, its stamp records `fingerprint`, and the module still has the sha256
 * the stamp recorded (a module copied over by hand is rebuilt).
 */
export function isUpToDate(outFile: string, fingerprint: string): boolean {
  const stamp = readStamp(outFile);
  if (stamp === null || stamp.fingerprint !== fingerprint || !existsSync(outFile)) return false;
  return createHash("sha256").update(readFileSync(outFile)).digest("hex") === stamp.wasmSha256;
}

/** Records that `outFile` (already written) was built from `fingerprint`. */
export function writeStamp(outFile: string, fingerprint: string, wasmSha256: string): void {
  const stamp: BuildStamp = { fingerprint, wasmSha256 };
  writeFileSync(stampPath(outFile), `${JSON.stringify(stamp)}\n`);
}

/** The stamp beside `outFile`, or null when there is none or it is not one of ours. */
export function readStamp(outFile: string): BuildStamp | null {
  try {
    const parsed = JSON.parse(readFileSync(stampPath(outFile), "utf8")) as Partial<BuildStamp>;
    return typeof parsed.fingerprint === "string" && typeof parsed.wasmSha256 === "string" ? { fingerprint: parsed.fingerprint, wasmSha256: parsed.wasmSha256 } : null;
  } catch {
    return null;
  }
}

/** The version of the AssemblyScript compiler `build` loads (resolved from here, as its import is). */
function compilerVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = JSON.parse(readFileSync(require.resolve("assemblyscript/package.json"), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * `config` and every config it `extends`, nearest first. A missing base or one that is not JSON
 * ends the chain (its bytes are still hashed): asc reports the problem when it compiles.
 */
function configChain(config: string): string[] {
  const chain: string[] = [];
  let current: string | undefined = config;
  while (current !== undefined && existsSync(current) && !chain.includes(current)) {
    chain.push(current);
    let parsed: { extends?: unknown };
    try {
      parsed = JSON.parse(readFileSync(current, "utf8")) as typeof parsed;
    } catch {
      break;
    }
    current = typeof parsed.extends === "string" ? resolve(dirname(current), parsed.extends) : undefined;
  }
  return chain;
}

/** Every file under `dir`, sorted, skipping spec folders, dependencies and the folder `skip`. */
function filesUnder(dir: string, skip?: string): string[] {
  if (!existsSync(dir) || dir === skip) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (NOT_BUILD_INPUT.has(entry)) continue;
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) found.push(...filesUnder(path, skip));
    else if (stat.isFile()) found.push(path);
  }
  return found;
}
