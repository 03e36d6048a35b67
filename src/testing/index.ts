/**
 * The test kit for filter authors: drive a Proxy-Wasm filter through the same host the dev proxy
 * uses, from any Node test runner.
 */
export { createTestHost, TestHost, type TestHostOptions, type FlowInput, type FlowResult } from "./test-host";
export { HttpStreamHandle, SideRecord, type FrameOptions } from "./http-handle";
export { TcpConnectionHandle } from "./tcp-handle";
export { LogRecorder } from "./log-recorder";
export { CalloutRecorder, type PendingHttpCallout, type HttpCalloutAnswer } from "./callout-recorder";
