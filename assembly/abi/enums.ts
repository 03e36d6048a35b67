// Numeric values of the Proxy-Wasm 0.2.1 enumerations (shared/docs/proxy-wasm-abi.md §2).

/** Result code of every hostcall. */
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

/** proxy_log levels. Envoy's proxy_get_log_level may also answer 6 (logging off). */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
  Off = 6,
}

/** Which host buffer a buffer hostcall reads or writes (Buffer.type). Each is readable only in
 * the callbacks that carry it; elsewhere the host answers NotFound. */
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

/** Which header map a map hostcall works on (HeaderMap.type). Each is available only in the
 * callbacks that carry it; elsewhere the host answers BadArgument or NotFound. */
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

/** The stream direction for proxy_continue_stream / proxy_close_stream: HTTP request or
 * response, TCP downstream or upstream. */
export enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}

/** Who closed a TCP connection (proxy_on_*_connection_close). */
export enum PeerType {
  Unknown = 0,
  Local = 1,
  Remote = 2,
}

/** The kind of a Metric: counters only grow, gauges are set, histograms record samples. */
export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** Return value of onRequestHeaders / onResponseHeaders. */
export enum FilterHeadersStatus {
  Continue = 0,
  /** Envoy turns this into StopAllIterationAndWatermark (body callbacks stop too) unless
   * allow_on_headers_stop_iteration is enabled. */
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** Return value of onRequestBody / onResponseBody. */
export enum FilterDataStatus {
  Continue = 0,
  /** Keep buffering: the next body callback sees the whole body so far. */
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

/** Return value of onRequestTrailers / onResponseTrailers. */
export enum FilterTrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

/** Return value of the TCP callbacks. */
export enum FilterStatus {
  Continue = 0,
  StopIteration = 1,
}

/** gRPC status codes, as delivered by onGrpcClose and sent by sendLocalResponse. */
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
  /** "No gRPC status" for proxy_send_local_response. */
  InvalidCode = -1,
}
