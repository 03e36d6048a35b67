/**
 * Builds the import object for one VM: every hostcall family, filtered to what cpp-host registers
 * for the module's ABI version, plus the WASI functions under both WASI module names. WASI calls
 * outside the restricted set trap during module start and inside the allocator.
 */
import { ALLOCATOR_ALLOWED_HOSTCALLS, START_ALLOWED_HOSTCALLS, START_SECTION_SAFE_HOSTCALLS, hostImportsFor, importKey } from "./abi";
import { MissingMemoryError, StartSectionHostcallError } from "./errors";
import { bufferHostcalls } from "./hostcalls/buffers";
import { contextHostcalls } from "./hostcalls/context";
import { foreignHostcalls } from "./hostcalls/foreign";
import { grpcHostcalls } from "./hostcalls/grpc";
import { headerHostcalls } from "./hostcalls/headers";
import { httpCallHostcalls } from "./hostcalls/http-call";
import { localResponseHostcalls } from "./hostcalls/local-response";
import { logHostcalls } from "./hostcalls/log";
import { metricHostcalls } from "./hostcalls/metrics";
import { propertyHostcalls } from "./hostcalls/properties";
import { sharedDataHostcalls } from "./hostcalls/shared-data";
import { sharedQueueHostcalls } from "./hostcalls/shared-queue";
import { streamControlHostcalls } from "./hostcalls/stream-control";
import type { HostcallTable } from "./hostcalls/table";
import { timerHostcalls } from "./hostcalls/timers";
import { createWasiImports, WASI_MODULES } from "./wasi";
import type { Vm } from "./vm";
import { randomBytes } from "node:crypto";
import type { WasmImports, WasmMemory } from "./wasm-api";

/**
 * The memory of the instance being built; set by the VM right after instantiation, and left null
 * for a module without memory (WASI calls then trap with MissingMemoryError).
 */
export interface ImportMemory {
  memory: WasmMemory | null;
}

/** Wrappers only some modules need (so the others pay nothing for them). */
export interface ImportOptions {
  /**
   * For a module whose start section the VM runs (see `Vm.inStartSection`): every hostcall that
   * needs a context traps while the start section runs.
   */
  readonly guardStartSection?: boolean;
  /** For a module without memory: each hostcall names itself (`Vm.hostcallName`) for the trap report. */
  readonly nameHostcalls?: boolean;
}

/**
 * Imports for `vm`: only the functions its ABI version registers. Functions this host does not
 * implement are left out, so instantiation of a module importing them fails loudly.
 */
export function buildImports(vm: Vm, memory: ImportMemory, options: ImportOptions = {}): WasmImports {
  const proxyCalls: HostcallTable = Object.assign(
    {},
    logHostcalls(vm),
    headerHostcalls(vm),
    bufferHostcalls(vm),
    streamControlHostcalls(vm),
    localResponseHostcalls(vm),
    propertyHostcalls(vm),
    httpCallHostcalls(vm),
    grpcHostcalls(vm),
    sharedDataHostcalls(vm),
    sharedQueueHostcalls(vm),
    metricHostcalls(vm),
    timerHostcalls(vm),
    contextHostcalls(vm),
    foreignHostcalls(vm),
  );
  const wasi = createWasiImports({
    memory: () => {
      if (memory.memory === null) throw new MissingMemoryError(vm.hostcallName);
      return memory.memory;
    },
    log: (level, message) => vm.wasmLog(level, message),
    hostLog: (level, message) => vm.hostLog((["trace", "debug", "info", "warn", "error", "critical"] as const)[level] ?? "error", message),
    environment: Object.entries(vm.environment),
    now: () => vm.process.scheduler.nowNanos(),
    monotonic: () => vm.process.scheduler.monotonicNanos(),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
  });
  const registered = hostImportsFor(vm.abiVersion);
  const env: Record<string, HostcallTable[string]> = {};
  const wasiByModule: Record<string, Record<string, HostcallTable[string]>> = {};
  for (const module of WASI_MODULES) wasiByModule[module] = {};
  for (const spec of registered.values()) {
    if (spec.module === "env") {
      const implementation = proxyCalls[spec.name];
      if (implementation !== undefined) env[spec.name] = implementation;
      else if (spec.name === "emscripten_notify_memory_growth") env[spec.name] = () => undefined;
      continue;
    }
    const implementation = wasi[spec.name];
    if (implementation === undefined || wasiByModule[spec.module] === undefined) continue;
    const key = importKey(spec.module, spec.name);
    const allowedAtStart = START_ALLOWED_HOSTCALLS.has(key);
    const allowedInAllocator = ALLOCATOR_ALLOWED_HOSTCALLS.has(key);
    wasiByModule[spec.module][spec.name] = (...args: unknown[]) => {
      vm.checkRestrictedWasi(key, allowedAtStart, allowedInAllocator);
      return implementation(...args);
    };
  }
  const imports = { env, ...wasiByModule } as Record<string, Record<string, HostcallTable[string]>>;
  if (options.guardStartSection === true) guardAgainstStartSection(imports, vm);
  if (options.nameHostcalls === true) nameHostcalls(imports, vm);
  if (vm.onHostcall !== undefined) observeHostcalls(imports, vm.onHostcall);
  return imports as WasmImports;
}

/**
 * Wraps every hostcall that needs a context with a check that traps while the start section runs.
 * Only modules with a start section get the wrappers, so the others pay nothing.
 */
function guardAgainstStartSection(imports: Record<string, Record<string, HostcallTable[string]>>, vm: Vm): void {
  for (const [module, functions] of Object.entries(imports)) {
    for (const [name, implementation] of Object.entries(functions)) {
      const key = importKey(module, name);
      if (START_SECTION_SAFE_HOSTCALLS.has(key)) continue;
      functions[name] = (...args: unknown[]) => {
        if (vm.inStartSection) throw new StartSectionHostcallError(key);
        return (implementation as (...a: unknown[]) => number | void)(...args);
      };
    }
  }
}

/** Wraps every hostcall so the VM knows which one is running (`Vm.hostcallName`). */
function nameHostcalls(imports: Record<string, Record<string, HostcallTable[string]>>, vm: Vm): void {
  for (const [module, functions] of Object.entries(imports)) {
    for (const [name, implementation] of Object.entries(functions)) {
      const key = importKey(module, name);
      functions[name] = (...args: unknown[]) => {
        const outer = vm.hostcallName;
        vm.hostcallName = key;
        try {
          return (implementation as (...a: unknown[]) => number | void)(...args);
        } finally {
          vm.hostcallName = outer;
        }
      };
    }
  }
}

/**
 * Observes every call from the module into the host (module, name, arguments), before it runs. It
 * may return a function, which is called with the hostcall's result (undefined for a void hostcall)
 * once the call returned; it is not called when the hostcall trapped.
 */
export type HostcallObserver = (module: string, name: string, args: readonly unknown[]) => void | HostcallResultObserver;

/** Receives one hostcall's result; see `HostcallObserver`. */
export type HostcallResultObserver = (result: number | undefined) => void;

/**
 * Wraps every import with `observer`. Only done when an observer is configured, so a VM without one
 * pays nothing per hostcall.
 */
function observeHostcalls(imports: Record<string, Record<string, HostcallTable[string]>>, observer: HostcallObserver): void {
  for (const [module, functions] of Object.entries(imports)) {
    for (const [name, implementation] of Object.entries(functions)) {
      functions[name] = (...args: unknown[]) => {
        const onResult = observer(module, name, args);
        const result = (implementation as (...a: unknown[]) => number | void)(...args);
        if (typeof onResult === "function") onResult(result ?? undefined);
        return result;
      };
    }
  }
}
