// proxy-wasm-as: the public API for filter authors.
// A filter's entry file imports from here and re-exports "proxy-wasm-as/assembly/exports".
import "./runtime/abort";

export {
  WasmResult, LogLevel, BufferType, MapType, StreamType, PeerType, MetricType,
  FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus, FilterStatus, GrpcStatus,
} from "./abi/enums";
export { lastResult } from "./runtime/hostcalls";
export { Header, serializePairs, deserializePairs } from "./runtime/pairs";
export { log } from "./api/log";
export { Context } from "./api/context";
export { RootContext } from "./api/root_context";
export { HttpContext } from "./api/http_context";
export { TcpContext } from "./api/tcp_context";
export { registerRoot, registerDefaultRoot, registerHttpFilter, RootFactory, HttpFactory } from "./api/registry";
export {
  HeaderMap, requestHeaders, requestTrailers, responseHeaders, responseTrailers,
  grpcInitialMetadata, grpcTrailingMetadata, httpCallResponseHeaders, httpCallResponseTrailers,
} from "./api/header_map";
export { HeaderPairs } from "./api/header_pairs";
export {
  Buffer, requestBody, responseBody, downstreamData, upstreamData, httpCallResponseBody,
  grpcMessage, callData,
} from "./api/buffer";
export { HttpCallResponse } from "./api/http_call_response";
export {
  getProperty, getPropertyString, getPropertyI64, getPropertyU64, getPropertyF64,
  getPropertyBool, getPropertyMap, setProperty, setPropertyString, attributes,
} from "./api/properties";
export { JsonValue, JsonKind, parseJson, parseJsonText, jsonError } from "./api/json";
export { parseConfig, parseConfigText, configError } from "./api/plugin_config";
export { isValidUtf8 } from "./api/utf8";
export { continueRequest, continueResponse, continueDownstream, closeStream, sendLocalResponse, sendLocalResponseBytes } from "./api/stream";
export { httpCall } from "./api/http_call";
export { grpcCall, grpcStream, grpcSend, grpcClose, grpcCancel, grpcStatusMessage } from "./api/grpc";
export {
  SharedData, getSharedData, setSharedData, setSharedDataText, registerSharedQueue, resolveSharedQueue,
  enqueueSharedQueue, enqueueSharedQueueText, dequeueSharedQueue,
} from "./api/shared_data";
export { Metric } from "./api/metrics";
export { currentTimeNanoseconds, setEffectiveContext, callForeignFunction } from "./api/host_misc";
export { pendingCalloutCount } from "./api/callouts";
export { liveContextCount } from "./api/registry";
