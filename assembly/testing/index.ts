// The AssemblyScript test API: as-pect specs drive the author's built filter through this
// package's host. Link it with `withProxyWasmHost` (proxy-wasm-as/testing/aspect) in
// as-pect.config.js. This module imports nothing from the SDK: the spec module need not be a filter
// (with `specModuleIsFilter` it is one, and `new TestHost()` hosts it; see docs/testing.md).

export { TestHost } from "./test_host";
export { HttpStream, StreamSide, LocalResponse } from "./http_stream";
export { Headers } from "./headers";
export { Logs } from "./logs";
export { HttpCallout } from "./http_callout";
export { Action } from "./action";
export { TcpConnection, TcpStatus } from "./tcp_connection";
export { GrpcCall } from "./grpc_call";
export { Plugin } from "./plugin";
export { Properties } from "./properties";
