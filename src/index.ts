/**
 * proxy-wasm-as, Node side: the host and the test kit.
 */
export * from "./host";
export * from "./testing";
