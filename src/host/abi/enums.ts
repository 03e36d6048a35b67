/**
 * Numeric enumerations of Proxy-Wasm ABI 0.2.1 as cpp-host and Envoy interpret them
 * (proxy-wasm-abi.md §2). Plain TypeScript enums (not `const enum`) so that they survive
 * `isolatedModules` and can be reverse-mapped to names for logs and traces.
 */

/** Status returned by every `proxy_*` hostcall (§2.2). */
export enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** `proxy_log` levels (§2.1). `Off` (6) is only ever reported by `proxy_get_log_level`. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
  Off = 6,
}

/** Highest level `proxy_log` accepts; anything above is `BadArgument`. */
export const MAX_LOG_LEVEL = LogLevel.Critical;

/** Buffer selector of `proxy_get_buffer_*` / `proxy_set_buffer_bytes` (§2.3). */
export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}

/** Highest buffer type cpp-host accepts (any ABI version); larger is `BadArgument`. */
export const MAX_BUFFER_TYPE = BufferType.CallData;

/** Map selector of the `proxy_*_header_map_*` hostcalls (§2.4). */
export enum MapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

/** Highest map type cpp-host accepts; larger is `BadArgument`. */
export const MAX_MAP_TYPE = MapType.HttpCallResponseTrailers;

/** Stream selector of `proxy_continue_stream` / `proxy_close_stream` (§2.5, ABI 0.2.0+). */
export enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}

/** Highest stream type cpp-host accepts; larger is `BadArgument`. */
export const MAX_STREAM_TYPE = StreamType.Upstream;

/** Peer passed to the TCP connection-close callbacks (§2.6). */
export enum PeerType {
  Unknown = 0,
  Local = 1,
  Remote = 2,
}

/** `proxy_define_metric` type (§2.7); also the low 2 bits of a metric id. */
export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** Spec-level action returned by stream callbacks (§2.8). */
export enum Action {
  Continue = 0,
  Pause = 1,
}

/** Return of `proxy_on_request_headers` / `proxy_on_response_headers` as Envoy reads it (§2.8). */
export enum FilterHeadersStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** Return of the body callbacks as Envoy reads it (§2.8). */
export enum FilterDataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

/** Return of the trailers callbacks (§2.8). */
export enum FilterTrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

/** Return of the TCP callbacks (§2.8). */
export enum FilterStatus {
  Continue = 0,
  StopIteration = 1,
}

/** Return of the metadata callbacks; Envoy ignores it (§2.8). */
export enum FilterMetadataStatus {
  Continue = 0,
}

/** gRPC status codes (§2.9). `InvalidCode` is the SDKs' "not set" value (0xFFFFFFFF as u32). */
export enum GrpcStatus {
  Ok = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
  InvalidCode = -1,
}

/** WASI errno values the host returns (§2.11, §5.19). */
export enum WasiErrno {
  Success = 0,
  Badf = 8,
  Notdir = 20,
  Fault = 21,
  Inval = 28,
  Noent = 44,
  Nosys = 52,
  Notsup = 58,
  Notcapable = 76,
}

/** The only file descriptors the host serves (§2.11). */
export enum WasiFd {
  Stdout = 1,
  Stderr = 2,
}

/** The only WASI clocks the host serves (§2.11); other ids get `Notsup`. */
export enum WasiClock {
  Realtime = 0,
  Monotonic = 1,
}

/** cpp-host's VM failure states (§2.12). */
export enum FailState {
  Ok = 0,
  UnableToCreateVm = 1,
  UnableToCloneVm = 2,
  MissingFunction = 3,
  UnableToInitializeCode = 4,
  StartFailed = 5,
  ConfigureFailed = 6,
  RuntimeError = 7,
}
