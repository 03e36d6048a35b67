/**
 * Numeric values of the Proxy-Wasm ABI that the host core needs (reference §2).
 *
 * The module engineer owns the full enum tables in `src/host/abi/`; this file holds only what the
 * VM, hostcalls and drivers use, so the core compiles on its own. Values are the wire values.
 */

/** `proxy_status_t` / WasmResult (§2.2). */
export const Result = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;
export type ResultCode = (typeof Result)[keyof typeof Result];

/** `proxy_log_level_t` (§2.1); 6 is Envoy's "off", returned only by `proxy_get_log_level`. */
export const LogLevel = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, critical: 5, off: 6 } as const;
export type LogLevelName = keyof typeof LogLevel;
export const LOG_LEVEL_NAMES: readonly LogLevelName[] = ["trace", "debug", "info", "warn", "error", "critical", "off"];

/** `proxy_map_type_t` (§2.4). */
export const MapType = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;
export const MAX_MAP_TYPE = 7;

/** `proxy_buffer_type_t` (§2.3). */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const;
export const MAX_BUFFER_TYPE = 8;

/** `proxy_stream_type_t` (§2.5). */
export const StreamType = { Request: 0, Response: 1, Downstream: 2, Upstream: 3 } as const;

/** PeerType used by the TCP close callbacks (§2.6). */
export const PeerType = { Unknown: 0, Local: 1, Remote: 2 } as const;

/** MetricType (§2.7). */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;

/** gRPC status codes the host itself produces (§2.9). */
export const GrpcStatus = { Ok: 0, Canceled: 1, Unknown: 2, DeadlineExceeded: 4, Unavailable: 14 } as const;

/** The ABI version a module declared through its marker export (§1.1). */
export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";
