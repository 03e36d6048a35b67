import wabtFactory from "wabt";

/**
 * Tiny hand-written Proxy-Wasm 0.2.1 filters (WAT), so the proxy tests exercise the real host and
 * driver without depending on the SDK build. Each is compiled with wabt.
 */

const wabt = await wabtFactory();

/** Compiles WAT text to a module binary. */
export function compileWat(text: string): Uint8Array {
  const module = wabt.parseWat("fixture.wat", text);
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** Proxy-Wasm "pairs" bytes (count, sizes, NUL-terminated keys and values) as a WAT data string. */
function pairsData(pairs: [string, string][]): { data: string; size: number } {
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
  u32(pairs.length);
  for (const [k, v] of pairs) {
    u32(Buffer.byteLength(k));
    u32(Buffer.byteLength(v));
  }
  for (const [k, v] of pairs) parts.push(...Buffer.from(k), 0, ...Buffer.from(v), 0);
  return { data: parts.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join(""), size: parts.length };
}

const COMMON = `
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 32768))
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
`;

/**
 * Adds `hello: world!` to every response, logs `response headers seen` (info) from the stream,
 * and counts requests in the counter `wasmcustom.requests`.
 */
export const HELLO_FILTER = compileWat(`(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $inc (param i32 i64) (result i32)))
  ${COMMON}
  (data (i32.const 100) "hello")
  (data (i32.const 110) "world!")
  (data (i32.const 120) "response headers seen")
  (data (i32.const 150) "requests")
  (global $counter (mut i32) (i32.const 0))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $define (i32.const 0) (i32.const 150) (i32.const 8) (i32.const 200)))
    (global.set $counter (i32.load (i32.const 200)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $inc (global.get $counter) (i64.const 1)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $log (i32.const 2) (i32.const 120) (i32.const 21)))
    (drop (call $add (i32.const 2) (i32.const 100) (i32.const 5) (i32.const 110) (i32.const 6)))
    (i32.const 0))
)`);

/** Traps (`unreachable`) in `proxy_on_request_headers`: the VM fails and the failure policy applies. */
export const TRAP_FILTER = compileWat(`(module
  ${COMMON}
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    unreachable)
)`);

const CALLOUT_HEADERS = pairsData([
  [":method", "GET"],
  [":path", "/check"],
  [":authority", "auth"],
]);

/**
 * Calls cluster `auth` (GET /check) from the request headers and pauses. On the answer: a body
 * of 2+ bytes lets the request continue; anything else gets a local 403 `denied`.
 */
export const CALLOUT_FILTER = compileWat(`(module
  (import "env" "proxy_http_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  ${COMMON}
  (data (i32.const 100) "auth")
  (data (i32.const 110) "denied")
  (data (i32.const 1024) "${CALLOUT_HEADERS.data}")
  (global $stream (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    (global.set $stream (local.get $id))
    (drop (call $call (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const ${CALLOUT_HEADERS.size})
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 300)))
    (i32.const 1))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32) (param $body i32) (param i32)
    (drop (call $effective (global.get $stream)))
    (if (i32.ge_u (local.get $body) (i32.const 2))
      (then (drop (call $continue (i32.const 0))))
      (else (drop (call $reply (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 110) (i32.const 6)
        (i32.const 0) (i32.const 0) (i32.const -1))))))
)`);

const GRPC_METADATA = pairsData([["x-md", "1"]]);

/**
 * Calls `pkg.Auth/Check` on cluster `grpc` with message `ping` and metadata `x-md: 1` and a
 * timeout of `timeoutMs` (a uint32), and pauses. A received message of 4 bytes lets the request
 * continue (anything else: local 500); a gRPC close (any error status) gets a local 403 `denied`.
 */
export function grpcFilter(timeoutMs: number): Uint8Array {
  return compileWat(`(module
  (import "env" "proxy_grpc_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  ${COMMON}
  (data (i32.const 100) "grpc")
  (data (i32.const 110) "pkg.Auth")
  (data (i32.const 120) "Check")
  (data (i32.const 130) "ping")
  (data (i32.const 140) "denied")
  (data (i32.const 1024) "${GRPC_METADATA.data}")
  (global $stream (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    (global.set $stream (local.get $id))
    (drop (call $call (i32.const 100) (i32.const 4) (i32.const 110) (i32.const 8) (i32.const 120) (i32.const 5)
      (i32.const 1024) (i32.const ${GRPC_METADATA.size}) (i32.const 130) (i32.const 4) (i32.const ${timeoutMs | 0}) (i32.const 300)))
    (i32.const 1))
  (func (export "proxy_on_grpc_receive") (param i32 i32) (param $size i32)
    (drop (call $effective (global.get $stream)))
    (if (i32.eq (local.get $size) (i32.const 4))
      (then (drop (call $continue (i32.const 0))))
      (else (drop (call $reply (i32.const 500) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
        (i32.const 0) (i32.const 0) (i32.const -1))))))
  (func (export "proxy_on_grpc_close") (param i32 i32 i32)
    (drop (call $effective (global.get $stream)))
    (drop (call $reply (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 140) (i32.const 6)
      (i32.const 0) (i32.const 0) (i32.const -1))))
)`);
}

/** grpcFilter with a timeout of 5 s. */
export const GRPC_FILTER = grpcFilter(5000);

/**
 * Sets its tick period to `periodMs` (a uint32) in `proxy_on_vm_start` and counts its ticks in the
 * counter `wasmcustom.ticks`; streams pass unchanged.
 */
export function tickFilter(periodMs: number): Uint8Array {
  return compileWat(`(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $period (param i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $inc (param i32 i64) (result i32)))
  ${COMMON}
  (data (i32.const 100) "ticks")
  (global $counter (mut i32) (i32.const 0))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $define (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 200)))
    (global.set $counter (i32.load (i32.const 200)))
    (drop (call $period (i32.const ${periodMs | 0})))
    (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (drop (call $inc (global.get $counter) (i64.const 1))))
)`);
}

/**
 * Loops forever in `proxy_on_request_headers` when the path's second byte is `l` (`/loop`),
 * passes every other request unchanged: a filter callback that never returns.
 */
export const LOOP_FILTER = compileWat(`(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  ${COMMON}
  (data (i32.const 100) ":path")
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $get (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 200) (i32.const 204)))
    (if (i32.eq (i32.load8_u (i32.add (i32.load (i32.const 200)) (i32.const 1))) (i32.const 108))
      (then (loop $forever (br $forever))))
    (i32.const 0))
)`);

/**
 * Opens a gRPC stream to cluster `grpc` (`pkg.Chat/Talk`) from the request headers, sends `a`,
 * then `bc` with end_stream, and pauses. Logs `initial`, each received message, and `trailing`;
 * on close answers the request locally with HTTP status 200 + the gRPC status.
 */
export const GRPC_STREAM_FILTER = compileWat(`(module
  (import "env" "proxy_grpc_stream" (func $open (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $bytes (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  ${COMMON}
  (data (i32.const 100) "grpc")
  (data (i32.const 110) "pkg.Chat")
  (data (i32.const 120) "Talk")
  (data (i32.const 130) "abc")
  (data (i32.const 140) "initial")
  (data (i32.const 150) "trailing")
  (global $stream (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    (global.set $stream (local.get $id))
    (drop (call $open (i32.const 100) (i32.const 4) (i32.const 110) (i32.const 8) (i32.const 120) (i32.const 4)
      (i32.const 0) (i32.const 0) (i32.const 300)))
    (drop (call $send (i32.load (i32.const 300)) (i32.const 130) (i32.const 1) (i32.const 0)))
    (drop (call $send (i32.load (i32.const 300)) (i32.const 131) (i32.const 2) (i32.const 1)))
    (i32.const 1))
  (func (export "proxy_on_grpc_receive_initial_metadata") (param i32 i32 i32)
    (drop (call $log (i32.const 2) (i32.const 140) (i32.const 7))))
  (func (export "proxy_on_grpc_receive") (param i32 i32) (param $size i32)
    (drop (call $bytes (i32.const 5) (i32.const 0) (local.get $size) (i32.const 400) (i32.const 404)))
    (drop (call $log (i32.const 2) (i32.load (i32.const 400)) (i32.load (i32.const 404)))))
  (func (export "proxy_on_grpc_receive_trailing_metadata") (param i32 i32 i32)
    (drop (call $log (i32.const 2) (i32.const 150) (i32.const 8))))
  (func (export "proxy_on_grpc_close") (param i32 i32) (param $status i32)
    (drop (call $effective (global.get $stream)))
    (drop (call $reply (i32.add (i32.const 200) (local.get $status)) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const -1))))
)`);

/**
 * Puts the stream's `source.address` and `destination.address` properties into the response
 * headers `x-source` and `x-destination`.
 */
export const ADDRESS_FILTER = compileWat(`(module
  (import "env" "proxy_get_property" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  ${COMMON}
  (data (i32.const 100) "source\\00address")
  (data (i32.const 120) "destination\\00address")
  (data (i32.const 150) "x-source")
  (data (i32.const 160) "x-destination")
  (func $copy (param $path i32) (param $pathSize i32) (param $name i32) (param $nameSize i32)
    (drop (call $get (local.get $path) (local.get $pathSize) (i32.const 200) (i32.const 204)))
    (drop (call $add (i32.const 2) (local.get $name) (local.get $nameSize) (i32.load (i32.const 200)) (i32.load (i32.const 204)))))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (call $copy (i32.const 100) (i32.const 14) (i32.const 150) (i32.const 8))
    (call $copy (i32.const 120) (i32.const 19) (i32.const 160) (i32.const 13))
    (i32.const 0))
)`);
