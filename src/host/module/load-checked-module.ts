import { CORRUPT_MODULE_MESSAGE, checkModule, type CheckModuleOptions } from "./check-module";
import { ModuleLoadError } from "./module-load-error";
import { inspectModule, type ModuleInfo } from "./module-info";
import type { ModuleProblem } from "./module-problem";
import { WasmParseError } from "./wasm-parse-error";

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
}

/**
 * Parses, checks and compiles a module the way cpp-host loads it, so that anything Envoy would
 * refuse is refused here too, with the same first message.
 *
 * @throws ModuleLoadError listing every problem found (bad binary, ABI marker, imports, memory,
 *   allocator, export signatures, V8 compile errors).
 */
export function loadCheckedModule(bytes: Uint8Array, options?: CheckModuleOptions): CheckedModule {
  let info: ModuleInfo;
  try {
    info = inspectModule(bytes);
  } catch (error) {
    if (!(error instanceof WasmParseError)) throw error;
    throw new ModuleLoadError([{ code: "corrupt-module", message: CORRUPT_MODULE_MESSAGE, hint: error.message }]);
  }

  const problems = checkModule(info, options);
  let module: CompiledWasmModule | undefined;
  try {
    module = new wasm.Module(bytes);
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
  return { info, module };
}
