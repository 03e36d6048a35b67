/**
 * The as-pect integration of the test kit: AssemblyScript specs (`proxy-wasm-as/assembly/testing`)
 * drive a built filter through the same host as the Node test kit.
 */
export { withProxyWasmHost, type ProxyWasmAspectOptions, type AspectConfig, type AspectInstance } from "./with-proxy-wasm-host";
export { createProxyWasmTestImports, TEST_IMPORT_MODULE, type AspectStringExports } from "./test-imports";
export { FilterLibrary, type FilterSource } from "./filter-library";
export { SpecModuleFilter } from "./spec-module-filter";
export { encodeFields, decodeFields, encodePairList, decodePairList } from "./field-list";
