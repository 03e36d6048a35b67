/**
 * Proxy-Wasm ABI tables as data: enums, versions, the imports the host registers, the exports
 * it looks up and the restricted hostcall sets. Transcribed from shared/docs/proxy-wasm-abi.md.
 */
export * from "./enums";
export * from "./versions";
export * from "./signature";
export * from "./wasi-functions";
export * from "./host-imports";
export * from "./callbacks";
export * from "./restricted-hostcalls";
