// The `proxy_wasm_test` imports: the JS half lives in src/testing/aspect/test-imports.ts and is
// linked by `withProxyWasmHost` in the author's as-pect.config.js. Handles are JS table keys.
// Lists cross as field lists (see field_list.ts). No logic here: the classes in this folder
// wrap these and turn a stored JS error into an abort (see errors.ts).

// @ts-ignore: decorator
@external("proxy_wasm_test", "has_error") export declare function has_error(): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "take_error") export declare function take_error(): string;

// ---- hosts ----
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_start") export declare function host_start(settings: string): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_start_error") export declare function host_start_error(host: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_failure") export declare function host_failure(host: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_set_log_level") export declare function host_set_log_level(host: i32, level: string): void;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_advance_time") export declare function host_advance_time(host: i32, ms: i64): void;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_flush_queues") export declare function host_flush_queues(host: i32): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_has_metric") export declare function host_has_metric(host: i32, name: string): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_metric") export declare function host_metric(host: i32, name: string): i64;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_has_shared_data") export declare function host_has_shared_data(host: i32, key: string): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_shared_data") export declare function host_shared_data(host: i32, key: string): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_shutdown") export declare function host_shutdown(host: i32): i32;

// ---- logs ----
// @ts-ignore: decorator
@external("proxy_wasm_test", "logs_messages") export declare function logs_messages(host: i32, level: string): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "logs_lines") export declare function logs_lines(host: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "logs_contains") export declare function logs_contains(host: i32, message: string, level: string): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "logs_includes") export declare function logs_includes(host: i32, fragment: string, level: string): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "logs_clear") export declare function logs_clear(host: i32): void;

// ---- HTTP callouts ----
// @ts-ignore: decorator
@external("proxy_wasm_test", "callouts_pending_tokens") export declare function callouts_pending_tokens(host: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "callout_cluster") export declare function callout_cluster(host: i32, token: u32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "callout_headers") export declare function callout_headers(host: i32, token: u32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "callout_body") export declare function callout_body(host: i32, token: u32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "callout_timeout_ms") export declare function callout_timeout_ms(host: i32, token: u32): u32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "callout_respond") export declare function callout_respond(host: i32, token: u32, status: u32, headers: string, body: string): void;
// @ts-ignore: decorator
@external("proxy_wasm_test", "callout_fail") export declare function callout_fail(host: i32, token: u32): void;

// @ts-ignore: decorator
@external("proxy_wasm_test", "host_root_context_id") export declare function host_root_context_id(host: i32): u32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_leak_check") export declare function host_leak_check(host: i32, iterations: i32, request: string, requestBody: string, response: string, responseBody: string): i64;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_trace_lines") export declare function host_trace_lines(host: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "host_clear_trace") export declare function host_clear_trace(host: i32): void;

// ---- further plugins on the VM (an owner is a host handle or a plugin handle) ----
// @ts-ignore: decorator
@external("proxy_wasm_test", "plugin_add") export declare function plugin_add(host: i32, name: string, rootId: string, config: string, properties: string): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "plugin_root_context_id") export declare function plugin_root_context_id(plugin: i32): u32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "plugin_shutdown") export declare function plugin_shutdown(plugin: i32): i32;

// ---- gRPC calls and streams ----
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_pending_tokens") export declare function grpc_pending_tokens(host: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_field") export declare function grpc_field(host: i32, token: u32, field: string): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_initial_metadata") export declare function grpc_initial_metadata(host: i32, token: u32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_timeout_ms") export declare function grpc_timeout_ms(host: i32, token: u32): u32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_message_count") export declare function grpc_message_count(host: i32, token: u32): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_message") export declare function grpc_message(host: i32, token: u32, index: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_receive") export declare function grpc_receive(host: i32, token: u32, message: string): void;
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_receive_metadata") export declare function grpc_receive_metadata(host: i32, token: u32, trailing: bool, metadata: string): void;
// @ts-ignore: decorator
@external("proxy_wasm_test", "grpc_close") export declare function grpc_close(host: i32, token: u32, status: u32, message: string): void;

// ---- TCP connections (data direction: 0 = from the client, 1 = from the upstream; side: 0 = upstream, 1 = downstream) ----
// @ts-ignore: decorator
@external("proxy_wasm_test", "tcp_new") export declare function tcp_new(owner: i32, properties: string): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "tcp_new_connection") export declare function tcp_new_connection(connection: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "tcp_data") export declare function tcp_data(connection: i32, direction: i32, data: string, endOfStream: bool): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "tcp_close") export declare function tcp_close(connection: i32, remote: bool): void;
// @ts-ignore: decorator
@external("proxy_wasm_test", "tcp_received") export declare function tcp_received(connection: i32, side: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "tcp_closed_by_host") export declare function tcp_closed_by_host(connection: i32): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "tcp_finished") export declare function tcp_finished(connection: i32): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "tcp_context_id") export declare function tcp_context_id(connection: i32): u32;

// ---- HTTP streams (direction / side: 0 = request / upstream, 1 = response / downstream) ----
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_new") export declare function stream_new(owner: i32, properties: string): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_headers") export declare function stream_headers(stream: i32, direction: i32, headers: string, endOfStream: bool): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_body") export declare function stream_body(stream: i32, direction: i32, chunk: string, endOfStream: bool): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_body_bytes") export declare function stream_body_bytes(stream: i32, direction: i32, chunk: string, endOfStream: bool): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_trailers") export declare function stream_trailers(stream: i32, direction: i32, trailers: string): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_complete") export declare function stream_complete(stream: i32): void;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_context_id") export declare function stream_context_id(stream: i32): u32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_current_headers") export declare function stream_current_headers(stream: i32, direction: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_held_body") export declare function stream_held_body(stream: i32, direction: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "stream_reset_details") export declare function stream_reset_details(stream: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "side_reached") export declare function side_reached(stream: i32, side: i32): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "side_headers") export declare function side_headers(stream: i32, side: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "side_body") export declare function side_body(stream: i32, side: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "side_body_bytes") export declare function side_body_bytes(stream: i32, side: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "side_trailers") export declare function side_trailers(stream: i32, side: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "side_ended") export declare function side_ended(stream: i32, side: i32): i32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "local_status") export declare function local_status(stream: i32): u32;
// @ts-ignore: decorator
@external("proxy_wasm_test", "local_body") export declare function local_body(stream: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "local_details") export declare function local_details(stream: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "local_headers") export declare function local_headers(stream: i32): string;
// @ts-ignore: decorator
@external("proxy_wasm_test", "local_grpc_status") export declare function local_grpc_status(stream: i32): i32;
