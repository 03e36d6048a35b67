// Hostcall wrappers: raw imports plus out-slot handling. Pointers and sizes in; a WasmResult
// out, with any returned data left in the out-slots (memory.ts) for the caller to take.
// Each wrapper records its status in `lastResult` so value-returning API calls can expose it.
// No policy here: the public API decides what a status means.
import * as abi from "../abi/imports";
import { WasmResult } from "../abi/enums";
import { OUT_DATA, OUT_SIZE, OUT_U32, OUT_U64, clearOut } from "./memory";

let lastStatus: WasmResult = WasmResult.Ok;

/** Status of the most recent hostcall the SDK made. */
export function lastResult(): WasmResult {
  return lastStatus;
}

// @ts-ignore: decorator
@inline function done(status: i32): WasmResult {
  lastStatus = <WasmResult>status;
  return <WasmResult>status;
}

export function log(level: i32, ptr: usize, size: usize): WasmResult {
  return done(abi.proxy_log(level, ptr, size));
}

/** Out: OUT_U32 = level. */
export function getLogLevel(): WasmResult {
  clearOut();
  return done(abi.proxy_get_log_level(OUT_U32));
}

/** Out: OUT_U64 = ns since epoch. */
export function getCurrentTimeNanoseconds(): WasmResult {
  clearOut();
  return done(abi.proxy_get_current_time_nanoseconds(OUT_U64));
}

export function setTickPeriodMilliseconds(periodMs: u32): WasmResult {
  return done(abi.proxy_set_tick_period_milliseconds(periodMs));
}

/** Out: OUT_U32 = code, data = message. */
export function getStatus(): WasmResult {
  clearOut();
  return done(abi.proxy_get_status(OUT_U32, OUT_DATA, OUT_SIZE));
}

/** Out: data = value. */
export function getProperty(pathPtr: usize, pathSize: usize): WasmResult {
  clearOut();
  return done(abi.proxy_get_property(pathPtr, pathSize, OUT_DATA, OUT_SIZE));
}

export function setProperty(pathPtr: usize, pathSize: usize, valuePtr: usize, valueSize: usize): WasmResult {
  return done(abi.proxy_set_property(pathPtr, pathSize, valuePtr, valueSize));
}

export function continueStream(streamType: i32): WasmResult {
  return done(abi.proxy_continue_stream(streamType));
}

export function closeStream(streamType: i32): WasmResult {
  return done(abi.proxy_close_stream(streamType));
}

export function sendLocalResponse(
  statusCode: u32, detailsPtr: usize, detailsSize: usize, bodyPtr: usize, bodySize: usize,
  headersPtr: usize, headersSize: usize, grpcStatus: i32): WasmResult {
  return done(abi.proxy_send_local_response(statusCode, detailsPtr, detailsSize, bodyPtr, bodySize, headersPtr, headersSize, grpcStatus));
}

/** Out: data = value. */
export function getHeaderMapValue(mapType: i32, keyPtr: usize, keySize: usize): WasmResult {
  clearOut();
  return done(abi.proxy_get_header_map_value(mapType, keyPtr, keySize, OUT_DATA, OUT_SIZE));
}

export function addHeaderMapValue(mapType: i32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): WasmResult {
  return done(abi.proxy_add_header_map_value(mapType, keyPtr, keySize, valuePtr, valueSize));
}

export function replaceHeaderMapValue(mapType: i32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): WasmResult {
  return done(abi.proxy_replace_header_map_value(mapType, keyPtr, keySize, valuePtr, valueSize));
}

export function removeHeaderMapValue(mapType: i32, keyPtr: usize, keySize: usize): WasmResult {
  return done(abi.proxy_remove_header_map_value(mapType, keyPtr, keySize));
}

/** Out: data = pairs block. */
export function getHeaderMapPairs(mapType: i32): WasmResult {
  clearOut();
  return done(abi.proxy_get_header_map_pairs(mapType, OUT_DATA, OUT_SIZE));
}

export function setHeaderMapPairs(mapType: i32, pairsPtr: usize, pairsSize: usize): WasmResult {
  return done(abi.proxy_set_header_map_pairs(mapType, pairsPtr, pairsSize));
}

/** Out: OUT_U32 = size (Envoy: byte size of keys and values). */
export function getHeaderMapSize(mapType: i32): WasmResult {
  clearOut();
  return done(abi.proxy_get_header_map_size(mapType, OUT_U32));
}

/** Out: OUT_U32 = length (flags are discarded: cpp-host always writes 0). */
export function getBufferStatus(bufferType: i32): WasmResult {
  clearOut();
  return done(abi.proxy_get_buffer_status(bufferType, OUT_U32, OUT_U64));
}

/** Out: data = bytes. */
export function getBufferBytes(bufferType: i32, start: u32, length: u32): WasmResult {
  clearOut();
  return done(abi.proxy_get_buffer_bytes(bufferType, start, length, OUT_DATA, OUT_SIZE));
}

export function setBufferBytes(bufferType: i32, start: u32, length: u32, dataPtr: usize, dataSize: usize): WasmResult {
  return done(abi.proxy_set_buffer_bytes(bufferType, start, length, dataPtr, dataSize));
}

/** Out: OUT_U32 = token. */
export function httpCall(
  upstreamPtr: usize, upstreamSize: usize, headersPtr: usize, headersSize: usize,
  bodyPtr: usize, bodySize: usize, trailersPtr: usize, trailersSize: usize, timeoutMs: u32): WasmResult {
  clearOut();
  return done(abi.proxy_http_call(upstreamPtr, upstreamSize, headersPtr, headersSize, bodyPtr, bodySize,
    trailersPtr, trailersSize, timeoutMs, OUT_U32));
}

/** Out: OUT_U32 = token. */
export function grpcCall(
  servicePtr: usize, serviceSize: usize, serviceNamePtr: usize, serviceNameSize: usize,
  methodPtr: usize, methodSize: usize, metadataPtr: usize, metadataSize: usize,
  messagePtr: usize, messageSize: usize, timeoutMs: u32): WasmResult {
  clearOut();
  return done(abi.proxy_grpc_call(servicePtr, serviceSize, serviceNamePtr, serviceNameSize, methodPtr, methodSize,
    metadataPtr, metadataSize, messagePtr, messageSize, timeoutMs, OUT_U32));
}

/** Out: OUT_U32 = token. */
export function grpcStream(
  servicePtr: usize, serviceSize: usize, serviceNamePtr: usize, serviceNameSize: usize,
  methodPtr: usize, methodSize: usize, metadataPtr: usize, metadataSize: usize): WasmResult {
  clearOut();
  return done(abi.proxy_grpc_stream(servicePtr, serviceSize, serviceNamePtr, serviceNameSize, methodPtr, methodSize,
    metadataPtr, metadataSize, OUT_U32));
}

export function grpcSend(token: u32, messagePtr: usize, messageSize: usize, endStream: bool): WasmResult {
  return done(abi.proxy_grpc_send(token, messagePtr, messageSize, endStream ? 1 : 0));
}

export function grpcCancel(token: u32): WasmResult {
  return done(abi.proxy_grpc_cancel(token));
}

export function grpcClose(token: u32): WasmResult {
  return done(abi.proxy_grpc_close(token));
}

/** Out: data = value, OUT_U32 = CAS. */
export function getSharedData(keyPtr: usize, keySize: usize): WasmResult {
  clearOut();
  return done(abi.proxy_get_shared_data(keyPtr, keySize, OUT_DATA, OUT_SIZE, OUT_U32));
}

export function setSharedData(keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize, cas: u32): WasmResult {
  return done(abi.proxy_set_shared_data(keyPtr, keySize, valuePtr, valueSize, cas));
}

/** Out: OUT_U32 = queue token. */
export function registerSharedQueue(namePtr: usize, nameSize: usize): WasmResult {
  clearOut();
  return done(abi.proxy_register_shared_queue(namePtr, nameSize, OUT_U32));
}

/** Out: OUT_U32 = queue token. */
export function resolveSharedQueue(vmIdPtr: usize, vmIdSize: usize, namePtr: usize, nameSize: usize): WasmResult {
  clearOut();
  return done(abi.proxy_resolve_shared_queue(vmIdPtr, vmIdSize, namePtr, nameSize, OUT_U32));
}

/** Out: data = item. */
export function dequeueSharedQueue(token: u32): WasmResult {
  clearOut();
  return done(abi.proxy_dequeue_shared_queue(token, OUT_DATA, OUT_SIZE));
}

export function enqueueSharedQueue(token: u32, dataPtr: usize, dataSize: usize): WasmResult {
  return done(abi.proxy_enqueue_shared_queue(token, dataPtr, dataSize));
}

/** Out: OUT_U32 = metric id. */
export function defineMetric(metricType: i32, namePtr: usize, nameSize: usize): WasmResult {
  clearOut();
  return done(abi.proxy_define_metric(metricType, namePtr, nameSize, OUT_U32));
}

export function incrementMetric(metricId: u32, offset: i64): WasmResult {
  return done(abi.proxy_increment_metric(metricId, offset));
}

export function recordMetric(metricId: u32, value: u64): WasmResult {
  return done(abi.proxy_record_metric(metricId, value));
}

/** Out: OUT_U64 = value. */
export function getMetric(metricId: u32): WasmResult {
  clearOut();
  return done(abi.proxy_get_metric(metricId, OUT_U64));
}

export function setEffectiveContext(contextId: u32): WasmResult {
  return done(abi.proxy_set_effective_context(contextId));
}

export function proxyDone(): WasmResult {
  return done(abi.proxy_done());
}

/** Out: data = results. */
export function callForeignFunction(namePtr: usize, nameSize: usize, argsPtr: usize, argsSize: usize): WasmResult {
  clearOut();
  return done(abi.proxy_call_foreign_function(namePtr, nameSize, argsPtr, argsSize, OUT_DATA, OUT_SIZE));
}
