/**
 * The Node host: a faithful Proxy-Wasm host (Envoy + proxy-wasm-cpp-host behaviour) on V8.
 * Layers, bottom to top: module (load checks) -> Vm -> hostcall families -> drivers -> PluginHost.
 */
export { ProxyProcess, type ProxyProcessOptions } from "./process";
export { Vm, type VmOptions, type StrictViolation, type CallbackObserver } from "./vm";
export type { HostcallObserver, HostcallResultObserver } from "./imports";
export type { VmFailure } from "./vm-failure";
export { Plugin, PluginStartError, type PluginOptions } from "./plugin";
export { PluginHost, type PluginHostOptions } from "./plugin-host";
export { HttpStream, type HttpStreamSink, type HttpStreamOptions } from "./drivers/http-stream";
export { TcpStream, type TcpStreamSink, type TcpStatus, type TcpStreamOptions, type TcpClosePeer } from "./drivers/tcp-stream";
export type { HeadersStatus, DataStatus, TrailersStatus, FilterStatus } from "./drivers/filter-status";
export { FAIL_STREAM_DETAILS, CLOSE_STREAM_DETAILS, type FailurePolicy } from "./failure-policy";
export { HeaderMap, type HeadersInit } from "./header-map";
export { encodePairs, decodePairs, type BytePair } from "./pairs";
export { ManualScheduler, RealScheduler, type Scheduler, type TimerHandle } from "./scheduler";
export type { LogRecord, LogSink } from "./log";
export type { Callout, HttpCallout, GrpcCallout, HttpCalloutResponse, CalloutUpstream } from "./callouts";
export type { ForeignFunction, ForeignResult, ForeignCallSite, RecordedForeignCall } from "./foreign-functions";
export type { Metric, MetricKind } from "./metrics";
export type { LocalReply } from "./context";
export type { PropertyTree, PropertyValue } from "./plugin-info";
export { Result, LogLevel, type LogLevelName } from "./constants";
export { loadCheckedModule, ModuleLoadError, type CheckedModule } from "./module";
export { SourceMapError } from "./source-map/source-map-error";
export { ModuleSourceMap, type FrameSource } from "./source-map/module-source-map";
export { loadSourceMap, sourceMapPathBeside, type SourceMapLookup } from "./source-map/source-map-file";
export type { SourcePosition } from "./source-map/wasm-source-map";
