/**
 * The test kit for filter authors: drive a Proxy-Wasm filter through the same host the dev proxy
 * uses, from any Node test runner.
 */
export { createTestHost, TestHost, type TestHostOptions, type TcpConnectionOptions } from "./test-host";
export { CallTrace, type TraceOption } from "./call-trace";
export { type FlowInput, type FlowResult } from "./flow";
export { PluginHandle, type AddPluginOptions } from "./plugin-handle";
export { HttpStreamHandle, SideRecord, type FrameOptions } from "./http-handle";
export { TcpConnectionHandle } from "./tcp-handle";
export { LogRecorder } from "./log-recorder";
export { CalloutRecorder, type PendingHttpCallout, type HttpCalloutAnswer } from "./callout-recorder";
