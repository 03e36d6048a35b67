import { findCallback, type AllocatorExport, ALLOCATOR_EXPORTS } from "../abi/callbacks";
import { sameSignature, type FuncSignature, type ValType } from "../abi/signature";
import { abiVersionOfMarker, type AbiVersion } from "../abi/versions";
import { functionSignature, parseWasmBinary, type ExternalKind, type Limits, type WasmBinary } from "./wasm-binary";

/**
 * An import as the host sees it. `signature` is set for functions, `limits` for memories/tables,
 * `element` for tables.
 */
export interface ModuleImport {
  readonly module: string;
  readonly name: string;
  readonly kind: ExternalKind;
  readonly signature?: FuncSignature;
  readonly limits?: Limits;
  readonly element?: ValType;
}

/** An export; `signature` is set for functions. */
export interface ModuleExport {
  readonly name: string;
  readonly kind: ExternalKind;
  readonly index: number;
  readonly signature?: FuncSignature;
}

/** The linear memory the host will use (cpp-host: an imported one, else the first exported one). */
export interface ModuleMemory {
  readonly source: "imported" | "exported";
  /** `module.name` for an import, the export name otherwise. */
  readonly name: string;
  readonly limits: Limits;
}

/** Everything the host learns from a module binary before instantiating it. */
export interface ModuleInfo {
  readonly sizeBytes: number;
  /** Detected exactly as cpp-host does (first function export named like a known marker); null if none. */
  readonly abiVersion: AbiVersion | null;
  /** Every export whose name starts with `proxy_abi_version_`, in export order (for hints). */
  readonly abiMarkerExports: readonly string[];
  readonly imports: readonly ModuleImport[];
  readonly exports: readonly ModuleExport[];
  /** Function names from the `name` section, by function index; empty if stripped. */
  readonly functionNames: ReadonlyMap<number, string>;
  readonly memory: ModuleMemory | null;
  /** True when the module defines a memory but neither exports nor imports one. */
  readonly hasUnexportedMemory: boolean;
  /** A wasm start section runs during instantiation, when the host has no current context (§4.1). */
  readonly hasStartSection: boolean;
  /**
   * The export the host will call to allocate memory: the first of `malloc`,
   * `proxy_on_memory_allocate` exported as a function with type `(i32) -> i32` (§4.2), or null.
   */
  readonly allocator: AllocatorExport | null;
  readonly customSections: readonly { readonly name: string; readonly size: number }[];
}

const MARKER_PREFIX = "proxy_abi_version_";

/**
 * Reads a module binary without compiling it.
 *
 * @throws WasmParseError when the bytes are not a well-formed wasm binary.
 */
export function inspectModule(bytes: Uint8Array): ModuleInfo {
  return describeBinary(parseWasmBinary(bytes), bytes.length);
}

function describeBinary(binary: WasmBinary, sizeBytes: number): ModuleInfo {
  const imports = binary.imports.map(
    (entry): ModuleImport => ({
      module: entry.module,
      name: entry.name,
      kind: entry.kind,
      ...(entry.kind === "function" ? { signature: binary.types[entry.typeIndex!] } : {}),
      ...(entry.limits ? { limits: entry.limits } : {}),
      ...(entry.element ? { element: entry.element } : {}),
    }),
  );
  const exports = binary.exports.map(
    (entry): ModuleExport => ({
      name: entry.name,
      kind: entry.kind,
      index: entry.index,
      ...(entry.kind === "function" ? { signature: functionSignature(binary, entry.index) } : {}),
    }),
  );

  let abiVersion: AbiVersion | null = null;
  for (const entry of exports) {
    if (entry.kind !== "function") continue;
    const version = abiVersionOfMarker(entry.name);
    if (version) {
      abiVersion = version;
      break;
    }
  }

  return {
    sizeBytes,
    abiVersion,
    abiMarkerExports: exports.filter((entry) => entry.name.startsWith(MARKER_PREFIX)).map((entry) => entry.name),
    imports,
    exports,
    functionNames: binary.functionNames,
    ...findMemory(binary, imports),
    hasStartSection: binary.hasStartSection,
    allocator: findAllocator(exports),
    customSections: binary.customSections,
  };
}

function findMemory(
  binary: WasmBinary,
  imports: readonly ModuleImport[],
): { memory: ModuleMemory | null; hasUnexportedMemory: boolean } {
  const imported = imports.find((entry) => entry.kind === "memory");
  if (imported) {
    return {
      memory: { source: "imported", name: `${imported.module}.${imported.name}`, limits: imported.limits! },
      hasUnexportedMemory: false,
    };
  }
  const exported = binary.exports.find((entry) => entry.kind === "memory");
  if (exported) {
    return {
      memory: { source: "exported", name: exported.name, limits: binary.definedMemories[exported.index]! },
      hasUnexportedMemory: false,
    };
  }
  return { memory: null, hasUnexportedMemory: binary.definedMemories.length > 0 };
}

function findAllocator(exports: readonly ModuleExport[]): AllocatorExport | null {
  for (const name of ALLOCATOR_EXPORTS) {
    const entry = exports.find((candidate) => candidate.kind === "function" && candidate.name === name);
    // The allocator's type is the same for every ABI version.
    if (entry?.signature && sameSignature(entry.signature, findCallback("0.2.1", name)!.signature)) return name;
  }
  return null;
}

/** The function export named `name`, if the module has one. */
export function findFunctionExport(info: ModuleInfo, name: string): ModuleExport | undefined {
  return info.exports.find((entry) => entry.kind === "function" && entry.name === name);
}
