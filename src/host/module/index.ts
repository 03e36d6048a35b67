/**
 * The host's module layer: parse a wasm binary, detect its Proxy-Wasm ABI version, and check
 * that it would link in Envoy, with cpp-host's error messages.
 */
export { WasmParseError } from "./wasm-parse-error";
export { parseWasmBinary, type WasmBinary, type ExternalKind, type Limits } from "./wasm-binary";
export {
  inspectModule,
  findFunctionExport,
  type ModuleInfo,
  type ModuleImport,
  type ModuleExport,
  type ModuleMemory,
} from "./module-info";
export type { ModuleProblem, ModuleProblemCode } from "./module-problem";
export {
  checkModule,
  CORRUPT_MODULE_MESSAGE,
  MISSING_ABI_VERSION_MESSAGE,
  MISSING_ALLOCATOR_MESSAGE,
  MISSING_MEMORY_MESSAGE,
  type CheckModuleOptions,
  type ExtraHostFunction,
} from "./check-module";
export { ModuleLoadError } from "./module-load-error";
export { loadCheckedModule, type CheckedModule, type CompiledWasmModule, type LoadModuleOptions } from "./load-checked-module";
export { InterruptInstrumentationError } from "./interrupt-instrumentation-error";
export { addInterruptChecks } from "./interrupt-instrumentation";
export { CallbackDeadline } from "./interrupt-deadline";
export { describeModule, formatModuleSummary, type ModuleSummary } from "./describe-module";
