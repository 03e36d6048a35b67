// The Proxy-Wasm 0.2.1 callbacks (proxy-wasm-abi.md §1.4), the ABI marker and the allocator.
// A filter re-exports all of this: `export * from "proxy-wasm-as/assembly/exports";`. The SDK's
// export transform (transform/proxy-wasm-exports.mjs) then drops the callbacks the filter does
// not implement; keep its tables in step when a callback here starts doing SDK work.
// Parameters and results are plain i32 so the wasm signatures match what the host checks.
// Every callback starts by looking its context up (registry.findContextAddress), which also
// tells the logger that a new callback began. Contexts are held as addresses and turned into
// references only for the call: no managed local (the registry keeps them alive).
import { PeerType } from "./abi/enums";
import { allocate } from "./runtime/memory";
import { beginCallback } from "./api/log";
import { Context, ContextKind } from "./api/context";
import { RootContext } from "./api/root_context";
import { HttpContext } from "./api/http_context";
import { TcpContext } from "./api/tcp_context";
import { CalloutEvent } from "./api/callouts";
import { routeCallout } from "./api/callout_routing";
import { createContext, deleteContext, findContextAddress, getContextAddress } from "./api/registry";
import { enterCallback, leaveCallback } from "./runtime/collect";
import "./runtime/abort";

/** ABI marker: never called. */
export function proxy_abi_version_0_2_1(): void {}

/** The host's allocator (cpp-host looks up `malloc` first). */
export function malloc(size: usize): usize {
  return allocate(size);
}
export { malloc as proxy_on_memory_allocate };

// The SDK's allocator (runtime/allocator.ts), exported only so that it is compiled: the build
// transform routes the runtime's __alloc, __realloc and __free through it and removes these
// three exports. Without the transform they stay unused, and TLSF stays the allocator.
export { blockAlloc as __proxy_wasm_as_block_alloc, blockRealloc as __proxy_wasm_as_block_realloc, blockFree as __proxy_wasm_as_block_free } from "./runtime/allocator";

// The callbacks of each context kind share one dispatcher, so each export is a short
// trampoline: 22 separate lookups and kind checks cost far more code.

const enum RootEvent { VmStart, Configure, Tick, QueueReady, ForeignFunction }

function onRoot(event: RootEvent, id: u32, a: u32, b: u32): u32 {
  enterCallback();
  const result = dispatchRoot(event, id, a, b);
  leaveCallback();
  return result;
}

function dispatchRoot(event: RootEvent, id: u32, a: u32, b: u32): u32 {
  const context = getContextAddress(id, ContextKind.Root);
  switch (event) {
    case RootEvent.VmStart: return changetype<RootContext>(context).onVmStart(a) ? 1 : 0;
    case RootEvent.Configure: return changetype<RootContext>(context).onConfigure(a) ? 1 : 0;
    case RootEvent.Tick: changetype<RootContext>(context).onTick(); break;
    case RootEvent.QueueReady: changetype<RootContext>(context).onQueueReady(a); break;
    default: changetype<RootContext>(context).onForeignFunction(a, b);
  }
  return 0;
}

const enum HttpEvent {
  RequestHeaders, RequestBody, RequestTrailers, RequestMetadata,
  ResponseHeaders, ResponseBody, ResponseTrailers, ResponseMetadata,
}

function onHttp(event: HttpEvent, id: u32, a: u32, endOfStream: u32): u32 {
  enterCallback();
  const result = dispatchHttp(event, id, a, endOfStream);
  leaveCallback();
  return result;
}

function dispatchHttp(event: HttpEvent, id: u32, a: u32, endOfStream: u32): u32 {
  const context = getContextAddress(id, ContextKind.Http);
  if (context == 0) return 0; // passes through: Continue
  const end = endOfStream != 0;
  switch (event) {
    case HttpEvent.RequestHeaders: return changetype<HttpContext>(context).onRequestHeaders(a, end);
    case HttpEvent.RequestBody: return changetype<HttpContext>(context).onRequestBody(a, end);
    case HttpEvent.RequestTrailers: return changetype<HttpContext>(context).onRequestTrailers(a);
    case HttpEvent.RequestMetadata: changetype<HttpContext>(context).onRequestMetadata(a); break;
    case HttpEvent.ResponseHeaders: return changetype<HttpContext>(context).onResponseHeaders(a, end);
    case HttpEvent.ResponseBody: return changetype<HttpContext>(context).onResponseBody(a, end);
    case HttpEvent.ResponseTrailers: return changetype<HttpContext>(context).onResponseTrailers(a);
    default: changetype<HttpContext>(context).onResponseMetadata(a);
  }
  return 0; // metadata: Envoy ignores the value
}

const enum TcpEvent { NewConnection, DownstreamData, UpstreamData, DownstreamClose, UpstreamClose }

function onTcp(event: TcpEvent, id: u32, a: u32, b: u32): u32 {
  enterCallback();
  const result = dispatchTcp(event, id, a, b);
  leaveCallback();
  return result;
}

function dispatchTcp(event: TcpEvent, id: u32, a: u32, b: u32): u32 {
  const context = getContextAddress(id, ContextKind.Tcp);
  if (context == 0) return 0; // passes through: Continue
  switch (event) {
    case TcpEvent.NewConnection: return changetype<TcpContext>(context).onNewConnection();
    case TcpEvent.DownstreamData: return changetype<TcpContext>(context).onDownstreamData(a, b != 0);
    case TcpEvent.UpstreamData: return changetype<TcpContext>(context).onUpstreamData(a, b != 0);
    case TcpEvent.DownstreamClose: changetype<TcpContext>(context).onDownstreamConnectionClose(<PeerType>a); break;
    default: changetype<TcpContext>(context).onUpstreamConnectionClose(<PeerType>a);
  }
  return 0;
}

// ---- lifecycle ----

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enterCallback();
  beginCallback();
  createContext(contextId, parentContextId);
  leaveCallback();
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): u32 {
  return onRoot(RootEvent.VmStart, rootContextId, vmConfigurationSize, 0);
}

export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): u32 {
  return onRoot(RootEvent.Configure, rootContextId, pluginConfigurationSize, 0);
}

/** Looked up by cpp-host but not called by Envoy; accepts everything. */
export function proxy_validate_configuration(rootContextId: u32, configurationSize: u32): u32 {
  return 1;
}

export function proxy_on_tick(rootContextId: u32): void {
  onRoot(RootEvent.Tick, rootContextId, 0, 0);
}

export function proxy_on_queue_ready(rootContextId: u32, queueId: u32): void {
  onRoot(RootEvent.QueueReady, rootContextId, queueId, 0);
}

export function proxy_on_foreign_function(rootContextId: u32, functionId: u32, argumentsSize: u32): void {
  onRoot(RootEvent.ForeignFunction, rootContextId, functionId, argumentsSize);
}

// done/log/delete for an id the SDK does not know are ignored: nothing to finish.
export function proxy_on_done(contextId: u32): u32 {
  enterCallback();
  const context = findContextAddress(contextId);
  const done = context == 0 || changetype<Context>(context).onDone();
  leaveCallback();
  return done ? 1 : 0;
}

export function proxy_on_log(contextId: u32): void {
  enterCallback();
  const context = findContextAddress(contextId);
  if (context != 0) changetype<Context>(context).onLog();
  leaveCallback();
}

export function proxy_on_delete(contextId: u32): void {
  enterCallback();
  const context = findContextAddress(contextId);
  if (context != 0) changetype<Context>(context).onDelete();
  deleteContext(contextId);
  leaveCallback();
}

// ---- HTTP stream ----

export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: u32): u32 {
  return onHttp(HttpEvent.RequestHeaders, contextId, headerCount, endOfStream);
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  return onHttp(HttpEvent.RequestBody, contextId, bodySize, endOfStream);
}

export function proxy_on_request_trailers(contextId: u32, trailerCount: u32): u32 {
  return onHttp(HttpEvent.RequestTrailers, contextId, trailerCount, 0);
}

export function proxy_on_request_metadata(contextId: u32, elementCount: u32): u32 {
  return onHttp(HttpEvent.RequestMetadata, contextId, elementCount, 0);
}

export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: u32): u32 {
  return onHttp(HttpEvent.ResponseHeaders, contextId, headerCount, endOfStream);
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  return onHttp(HttpEvent.ResponseBody, contextId, bodySize, endOfStream);
}

export function proxy_on_response_trailers(contextId: u32, trailerCount: u32): u32 {
  return onHttp(HttpEvent.ResponseTrailers, contextId, trailerCount, 0);
}

export function proxy_on_response_metadata(contextId: u32, elementCount: u32): u32 {
  return onHttp(HttpEvent.ResponseMetadata, contextId, elementCount, 0);
}

// ---- TCP ----

export function proxy_on_new_connection(contextId: u32): u32 {
  return onTcp(TcpEvent.NewConnection, contextId, 0, 0);
}

export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  return onTcp(TcpEvent.DownstreamData, contextId, dataSize, endOfStream);
}

export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  return onTcp(TcpEvent.UpstreamData, contextId, dataSize, endOfStream);
}

export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {
  onTcp(TcpEvent.DownstreamClose, contextId, peerType, 0);
}

export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {
  onTcp(TcpEvent.UpstreamClose, contextId, peerType, 0);
}

// ---- callouts: delivered to the root id, routed to the context that made the call ----
// (api/callout_routing.ts; the export transform keeps these only in filters that make callouts)

function onCallout(event: CalloutEvent, rootId: u32, token: u32, a: u32, b: u32, c: u32): void {
  enterCallback();
  routeCallout(event, rootId, token, a, b, c);
  leaveCallback();
}

export function proxy_on_http_call_response(rootContextId: u32, token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void {
  onCallout(CalloutEvent.HttpResponse, rootContextId, token, headerCount, bodySize, trailerCount);
}

export function proxy_on_grpc_receive_initial_metadata(rootContextId: u32, token: u32, headerCount: u32): void {
  onCallout(CalloutEvent.GrpcInitialMetadata, rootContextId, token, headerCount, 0, 0);
}

export function proxy_on_grpc_receive(rootContextId: u32, token: u32, messageSize: u32): void {
  onCallout(CalloutEvent.GrpcMessage, rootContextId, token, messageSize, 0, 0);
}

export function proxy_on_grpc_receive_trailing_metadata(rootContextId: u32, token: u32, trailerCount: u32): void {
  onCallout(CalloutEvent.GrpcTrailingMetadata, rootContextId, token, trailerCount, 0, 0);
}

export function proxy_on_grpc_close(rootContextId: u32, token: u32, statusCode: u32): void {
  onCallout(CalloutEvent.GrpcClose, rootContextId, token, statusCode, 0, 0);
}
