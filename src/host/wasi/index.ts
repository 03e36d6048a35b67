/** WASI preview1 functions as cpp-host provides them to Proxy-Wasm modules (§5.19). */
export { createWasiImports, type WasiFunction } from "./create-wasi-imports";
export type { WasiEnvironment, LinearMemorySource } from "./wasi-environment";
export {
  WASI_MODULES,
  WASI_FUNCTIONS,
  WASI_RANDOM_GET_MAX_BYTES,
  type WasiModuleName,
} from "../abi/wasi-functions";
export { START_ALLOWED_HOSTCALLS, ALLOCATOR_ALLOWED_HOSTCALLS } from "../abi/restricted-hostcalls";
export { WasiErrno, WasiFd, WasiClock } from "../abi/enums";
