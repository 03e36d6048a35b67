import { findCallback } from "../abi/callbacks";
import {
  findHostImport,
  findHostImportInAnyVersion,
  importKey,
  type HostImportSpec,
} from "../abi/host-imports";
import { formatSignature, sameSignature, type FuncSignature } from "../abi/signature";
import { ABI_MARKER_VNEXT, ABI_MARKERS, type AbiVersion } from "../abi/versions";
import { WASI_MODULES, WASI_PREVIEW1_SIGNATURES_CPP_HOST_DIFFERS } from "../abi/wasi-functions";
import { findFunctionExport, type ModuleImport, type ModuleInfo } from "./module-info";
import type { ModuleProblem } from "./module-problem";
import { coverageHostFunctions } from "../coverage-hits";

/** A host function registered in addition to the ABI's (cpp-host lets embedders add their own). */
export interface ExtraHostFunction {
  readonly module: string;
  readonly name: string;
  readonly signature: FuncSignature;
}

export interface CheckModuleOptions {
  /** Host functions the embedder registers on top of the ABI tables; they satisfy imports too. */
  readonly extraHostFunctions?: readonly ExtraHostFunction[];
}

export const CORRUPT_MODULE_MESSAGE = "Failed to parse corrupted Wasm module";
export const MISSING_ABI_VERSION_MESSAGE = "Missing or unknown Proxy-Wasm ABI version";
export const MISSING_ALLOCATOR_MESSAGE = "Wasm module is missing malloc function.";
/** Not a load failure (cpp-host loads such a module); the CLI's `build` warns with it. */
export const MISSING_MEMORY_MESSAGE = "Wasm module has no linear memory (it must export or import one)";

/** Hints for imports that toolchains add by default and Envoy does not provide. */
const KNOWN_IMPORT_HINTS: Readonly<Record<string, string>> = {
  "env.abort":
    "AssemblyScript's default abort; build with --use abort=<your abort function> (the SDK's asconfig.json does this)",
  "env.trace": "AssemblyScript's trace(); remove the calls or build with --use trace=<function>",
  "env.seed": "AssemblyScript's Math.random seed; avoid Math.random or build with --use seed=<function>",
};

/**
 * Every reason the module would fail to load in Envoy, in the order cpp-host would hit them
 * (ABI marker, imports in import order, start functions, allocator, callbacks).
 * An empty array means the module links. A missing marker does not stop the other checks:
 * imports are then checked against the union of all versions, so the report stays complete.
 */
export function checkModule(info: ModuleInfo, options: CheckModuleOptions = {}): ModuleProblem[] {
  const problems: ModuleProblem[] = [];
  const version = info.abiVersion;
  if (version === null) problems.push(missingAbiVersion(info));

  // Coverage builds' hit counters link only while coverage is being collected (coverage-hits.ts).
  const extra = new Map(
    [...(options.extraHostFunctions ?? []), ...coverageHostFunctions(info.imports)].map((fn) => [importKey(fn.module, fn.name), fn] as const),
  );
  for (const entry of info.imports) {
    const problem = checkImport(entry, version, extra);
    if (problem) problems.push(problem);
  }

  // No memory is not a load failure: cpp-host's `V8::link` (src/v8/v8.cc) leaves it null and
  // the module loads; the VM traps at the host's first access to it (MissingMemoryError).

  problems.push(...checkExports(info, version ?? "0.2.1"));
  return problems;
}

function missingAbiVersion(info: ModuleInfo): ModuleProblem {
  const vnext = info.abiMarkerExports.includes(ABI_MARKER_VNEXT);
  return {
    code: "missing-abi-version",
    message: MISSING_ABI_VERSION_MESSAGE,
    hint: vnext
      ? `${ABI_MARKER_VNEXT} (the vNEXT draft) is not accepted by cpp-host/Envoy; export ${ABI_MARKERS["0.2.1"]} instead`
      : `export an empty function named ${ABI_MARKERS["0.2.1"]} (or ${ABI_MARKERS["0.2.0"]}, ${ABI_MARKERS["0.1.0"]})`,
  };
}

function missingImportMessage(entry: ModuleImport): string {
  return `Failed to load Wasm module due to a missing import: ${importKey(entry.module, entry.name)}`;
}

function checkImport(
  entry: ModuleImport,
  version: AbiVersion | null,
  extra: ReadonlyMap<string, ExtraHostFunction>,
): ModuleProblem | undefined {
  const key = importKey(entry.module, entry.name);
  if (entry.kind === "global") {
    // cpp-host reports globals with its "missing import" wording.
    return {
      code: "global-import",
      message: missingImportMessage(entry),
      hint: "global imports are not supported by Proxy-Wasm hosts",
    };
  }
  if (entry.kind !== "function") return undefined; // memories and tables are created fresh

  const registered: HostImportSpec | ExtraHostFunction | undefined =
    extra.get(key) ??
    (version ? findHostImport(version, entry.module, entry.name) : findHostImportInAnyVersion(entry.module, entry.name));
  if (!registered) {
    return { code: "missing-import", message: missingImportMessage(entry), hint: missingImportHint(entry, version) };
  }
  if (!sameSignature(entry.signature!, registered.signature)) {
    return {
      code: "import-type-mismatch",
      message:
        `Failed to load Wasm module due to an import type mismatch: ${key}, ` +
        `want: ${formatSignature(entry.signature!)}, but host exports: ${formatSignature(registered.signature)}`,
      hint: importMismatchHint(entry),
    };
  }
  return undefined;
}

function missingImportHint(entry: ModuleImport, version: AbiVersion | null): string | undefined {
  const known = KNOWN_IMPORT_HINTS[importKey(entry.module, entry.name)];
  if (known) return known;
  const elsewhere = findHostImportInAnyVersion(entry.module, entry.name);
  if (elsewhere && version) {
    return `${entry.name} is only provided for ABI ${elsewhere.versions.join(", ")}, but the module declares ABI ${version}`;
  }
  if ((WASI_MODULES as readonly string[]).includes(entry.module)) {
    return `the host does not implement WASI function ${entry.name}`;
  }
  return undefined;
}

function importMismatchHint(entry: ModuleImport): string | undefined {
  const standard = WASI_PREVIEW1_SIGNATURES_CPP_HOST_DIFFERS[entry.name];
  if (standard && (WASI_MODULES as readonly string[]).includes(entry.module) && sameSignature(entry.signature!, standard)) {
    return `this is the standard WASI preview1 signature, but cpp-host (and so Envoy) declares ${entry.name} with ${
      standard.params.length - 1
    } parameters; avoid calling ${entry.name}`;
  }
  return undefined;
}

function badSignature(name: string, want: FuncSignature, got: FuncSignature): ModuleProblem {
  return {
    code: "bad-export-signature",
    message: `Bad function signature for: ${name}, want: ${formatSignature(want)}, but the module exports: ${formatSignature(got)}`,
  };
}

/** The export names cpp-host looks up, in its lookup order, given which start exports exist. */
function lookedUpExports(info: ModuleInfo, version: AbiVersion): string[] {
  const start = findFunctionExport(info, "_initialize") ? ["_initialize", "main", "__main_void"] : ["_start"];
  const callbacks = info.exports
    .filter((entry) => entry.kind === "function")
    .map((entry) => entry.name)
    .filter((name) => {
      const spec = findCallback(version, name);
      return spec !== undefined && (spec.kind === "proxy" || spec.kind === "envoy");
    });
  return [...start, "malloc", "proxy_on_memory_allocate", ...callbacks];
}

function checkExports(info: ModuleInfo, version: AbiVersion): ModuleProblem[] {
  const problems: ModuleProblem[] = [];
  for (const name of lookedUpExports(info, version)) {
    const entry = findFunctionExport(info, name);
    const spec = findCallback(version, name)!;
    if (entry?.signature && !sameSignature(entry.signature, spec.signature)) {
      problems.push(badSignature(name, spec.signature, entry.signature));
    }
    // cpp-host reports the missing allocator right after trying both names.
    if (name === "proxy_on_memory_allocate" && info.allocator === null) {
      problems.push({
        code: "missing-allocator",
        message: MISSING_ALLOCATOR_MESSAGE,
        hint: "export malloc or proxy_on_memory_allocate with type (i32) -> i32",
      });
    }
  }
  return problems;
}
