// Raw Proxy-Wasm ABI 0.2.1 hostcalls, exactly as Envoy / proxy-wasm-cpp-host register them
// (see shared/docs/proxy-wasm-abi.md §1.3). Every one returns a WasmResult as i32.
// No logic lives here: the wrappers in ../runtime/hostcalls.ts own pointers and sizes.

// ---- logging, time, status ----
@external("env", "proxy_log")
export declare function proxy_log(level: i32, messagePtr: usize, messageSize: usize): i32;
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(levelPtr: usize): i32;
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(resultU64Ptr: usize): i32;
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(periodMs: u32): i32;
@external("env", "proxy_get_status")
export declare function proxy_get_status(codePtr: usize, messagePtrPtr: usize, messageSizePtr: usize): i32;

// ---- properties ----
@external("env", "proxy_get_property")
export declare function proxy_get_property(pathPtr: usize, pathSize: usize, valuePtrPtr: usize, valueSizePtr: usize): i32;
@external("env", "proxy_set_property")
export declare function proxy_set_property(pathPtr: usize, pathSize: usize, valuePtr: usize, valueSize: usize): i32;

// ---- stream control ----
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(streamType: i32): i32;
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(streamType: i32): i32;
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(
  statusCode: u32, detailsPtr: usize, detailsSize: usize, bodyPtr: usize, bodySize: usize,
  headersPtr: usize, headersSize: usize, grpcStatus: i32): i32;

// ---- header maps ----
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(mapType: i32, keyPtr: usize, keySize: usize, valuePtrPtr: usize, valueSizePtr: usize): i32;
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(mapType: i32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): i32;
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(mapType: i32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): i32;
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(mapType: i32, keyPtr: usize, keySize: usize): i32;
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(mapType: i32, pairsPtrPtr: usize, pairsSizePtr: usize): i32;
@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(mapType: i32, pairsPtr: usize, pairsSize: usize): i32;
@external("env", "proxy_get_header_map_size")
export declare function proxy_get_header_map_size(mapType: i32, sizePtr: usize): i32;

// ---- buffers ----
@external("env", "proxy_get_buffer_status")
export declare function proxy_get_buffer_status(bufferType: i32, lengthPtr: usize, flagsPtr: usize): i32;
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(bufferType: i32, start: u32, length: u32, dataPtrPtr: usize, dataSizePtr: usize): i32;
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(bufferType: i32, start: u32, length: u32, dataPtr: usize, dataSize: usize): i32;

// ---- HTTP callouts ----
@external("env", "proxy_http_call")
export declare function proxy_http_call(
  upstreamPtr: usize, upstreamSize: usize, headersPtr: usize, headersSize: usize,
  bodyPtr: usize, bodySize: usize, trailersPtr: usize, trailersSize: usize,
  timeoutMs: u32, tokenPtr: usize): i32;

// ---- gRPC ----
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(
  servicePtr: usize, serviceSize: usize, serviceNamePtr: usize, serviceNameSize: usize,
  methodPtr: usize, methodSize: usize, metadataPtr: usize, metadataSize: usize,
  messagePtr: usize, messageSize: usize, timeoutMs: u32, tokenPtr: usize): i32;
@external("env", "proxy_grpc_stream")
export declare function proxy_grpc_stream(
  servicePtr: usize, serviceSize: usize, serviceNamePtr: usize, serviceNameSize: usize,
  methodPtr: usize, methodSize: usize, metadataPtr: usize, metadataSize: usize, tokenPtr: usize): i32;
@external("env", "proxy_grpc_send")
export declare function proxy_grpc_send(token: u32, messagePtr: usize, messageSize: usize, endStream: u32): i32;
@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(token: u32): i32;
@external("env", "proxy_grpc_close")
export declare function proxy_grpc_close(token: u32): i32;

// ---- shared data and queues ----
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(keyPtr: usize, keySize: usize, valuePtrPtr: usize, valueSizePtr: usize, casPtr: usize): i32;
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize, cas: u32): i32;
@external("env", "proxy_register_shared_queue")
export declare function proxy_register_shared_queue(namePtr: usize, nameSize: usize, tokenPtr: usize): i32;
@external("env", "proxy_resolve_shared_queue")
export declare function proxy_resolve_shared_queue(vmIdPtr: usize, vmIdSize: usize, namePtr: usize, nameSize: usize, tokenPtr: usize): i32;
@external("env", "proxy_dequeue_shared_queue")
export declare function proxy_dequeue_shared_queue(token: u32, dataPtrPtr: usize, dataSizePtr: usize): i32;
@external("env", "proxy_enqueue_shared_queue")
export declare function proxy_enqueue_shared_queue(token: u32, dataPtr: usize, dataSize: usize): i32;

// ---- metrics ----
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(metricType: i32, namePtr: usize, nameSize: usize, idPtr: usize): i32;
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metricId: u32, offset: i64): i32;
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(metricId: u32, value: u64): i32;
@external("env", "proxy_get_metric")
export declare function proxy_get_metric(metricId: u32, resultU64Ptr: usize): i32;

// ---- contexts and foreign functions ----
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): i32;
@external("env", "proxy_done")
export declare function proxy_done(): i32;
@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(
  namePtr: usize, nameSize: usize, argsPtr: usize, argsSize: usize,
  resultsPtrPtr: usize, resultsSizePtr: usize): i32;
