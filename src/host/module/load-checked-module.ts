import { CORRUPT_MODULE_MESSAGE, checkModule, type CheckModuleOptions } from "./check-module";
import { ModuleLoadError } from "./module-load-error";
import { inspectModule, type ModuleInfo } from "./module-info";
import type { ModuleProblem } from "./module-problem";
import { WasmParseError } from "./wasm-parse-error";
import { addInterruptChecksMapped } from "./interrupt-instrumentation";
import { takeHostControl } from "./host-controlled-module";
import { withSourceMappingUrl } from "./wasm-sections";
import { debuggerSourceMap, sourceMapDataUrl } from "../source-map/debugger-source-map";

/**
 * A compiled `WebAssembly.Module`. Typed loosely because neither lib ES2022 nor @types/node 20
 * declares the WebAssembly namespace; cast it where the real type is available.
 */
export type CompiledWasmModule = object;

interface WasmCompiler {
  readonly Module: new (bytes: Uint8Array) => CompiledWasmModule;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmCompiler }).WebAssembly;

/** A module that passed every load check, compiled and ready to instantiate. */
export interface CheckedModule {
  readonly info: ModuleInfo;
  readonly module: CompiledWasmModule;
  /**
   * True when the compiled code checks a deadline in every loop and function entry (`interruptible` load option), so
   * a Vm can stop a callback that runs past a time limit (VmOptions.callbackTimeLimitMs).
   */
  readonly interruptible?: boolean;
  /**
   * True when the module's start section was turned into an export (`START_FUNCTION_EXPORT`), so
   * the Vm runs it after instantiating, under the time limit (see host-controlled-module.ts).
   */
  readonly startExported?: boolean;
  /**
   * The offset in the bytes as given for a code offset of the compiled module (a backtrace
   * frame's), when the host rewrote the module; absent when it compiled the bytes as given.
   */
  readonly originalCodeOffset?: (offset: number) => number;
}

export interface LoadModuleOptions extends CheckModuleOptions {
  /**
   * For `--inspect`: the module's source map (JSON text, its sources rooted where a debugger
   * finds them), put into the compiled module's `sourceMappingURL` section with its offsets moved
   * to the host's rewrite (debugger-source-map.ts), so DevTools shows the AssemblyScript sources.
   * Not with `interruptible`, whose instrumentation moves code by varying amounts.
   */
  readonly debuggerSourceMap?: string;
  /**
   * Compile the module with a deadline check in every loop and function entry (see interrupt-instrumentation.ts).
   * The load checks still run on the bytes as given, so what Envoy would refuse is refused the same.
   */
  readonly interruptible?: boolean;
}

/**
 * Parses, checks and compiles a module the way cpp-host loads it, so that anything Envoy would
 * refuse is refused here too, with the same first message. A module that passes is compiled with
 * the host's own changes (host-controlled-module.ts): its start section becomes an export the Vm
 * runs under the time limit, and its memory's maximum is capped at 1 GiB.
 *
 * @throws ModuleLoadError listing every problem found (bad binary, ABI marker, imports,
 *   allocator, export signatures, V8 compile errors). A module without memory loads, as in
 *   cpp-host; the Vm traps at the host's first access to it.
 * @throws InterruptInstrumentationError with `interruptible` when the module uses an instruction
 *   the instrumentation does not know (the module itself may be fine: load it without the option).
 */
export function loadCheckedModule(bytes: Uint8Array, options?: LoadModuleOptions): CheckedModule {
  let info: ModuleInfo;
  try {
    info = inspectModule(bytes);
  } catch (error) {
    if (!(error instanceof WasmParseError)) throw error;
    throw new ModuleLoadError([{ code: "corrupt-module", message: CORRUPT_MODULE_MESSAGE, hint: error.message }]);
  }

  const problems = checkModule(info, options);
  const interruptible = options?.interruptible === true;
  // Only a module that passed the checks is rewritten: a refused module keeps its own compile error.
  const controlled = problems.length === 0 ? takeHostControl(bytes) : { bytes, startExported: false, codeOffsetShift: 0 };
  if (interruptible && options?.debuggerSourceMap !== undefined) throw new Error("a debugger source map cannot be used with interruptible: turn the callback time limit off under --inspect");
  const instrumented = interruptible && problems.length === 0 ? addInterruptChecksMapped(controlled.bytes) : undefined;
  const debuggable =
    options?.debuggerSourceMap !== undefined && problems.length === 0
      ? withSourceMappingUrl(controlled.bytes, sourceMapDataUrl(debuggerSourceMap(options.debuggerSourceMap, controlled.codeOffsetShift, undefined)))
      : undefined;
  const compiled = instrumented?.bytes ?? debuggable ?? controlled.bytes;
  let module: CompiledWasmModule | undefined;
  try {
    module = new wasm.Module(compiled);
  } catch (error) {
    const compileProblem: ModuleProblem = {
      code: "bytecode-rejected",
      message: "Failed to load Wasm bytecode",
      hint: error instanceof Error ? error.message : String(error),
    };
    // cpp-host detects the ABI version before compiling, and links after.
    const abiProblems = problems.filter((problem) => problem.code === "missing-abi-version");
    const rest = problems.filter((problem) => problem.code !== "missing-abi-version");
    problems.splice(0, problems.length, ...abiProblems, compileProblem, ...rest);
  }
  if (problems.length > 0 || !module) throw new ModuleLoadError(problems);
  const { startExported, codeOffsetShift } = controlled;
  const originalCodeOffset =
    instrumented !== undefined
      ? (offset: number) => instrumented.originalOffset(offset) - codeOffsetShift
      : codeOffsetShift !== 0
        ? (offset: number) => offset - codeOffsetShift
        : undefined;
  return interruptible ? { info, module, interruptible, startExported, originalCodeOffset } : { info, module, startExported, originalCodeOffset };
}
