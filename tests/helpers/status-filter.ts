/**
 * A hand-written HTTP filter whose stream callbacks return fixed statuses, for tests of what the
 * host does with each status (buffering, watermarks, the buffer limit). Each callback logs its
 * name at info level (`on_request_body`, ...), so a test sees which callbacks ran.
 */
import { compileWat } from "../host/core/wat";

/** The raw value each callback returns (ABI §4.8); absent callbacks return 0 (Continue). */
export interface StatusFilterReturns {
  requestHeaders?: number;
  requestBody?: number;
  responseHeaders?: number;
  responseBody?: number;
  /** What the request body callback returns for the chunk with end_of_stream, when not `requestBody`. */
  requestBodyAtEnd?: number;
}

/** Each callback takes (context id, size or count, end_of_stream). */
const CALLBACKS = [
  ["requestHeaders", "proxy_on_request_headers"],
  ["requestBody", "proxy_on_request_body"],
  ["responseHeaders", "proxy_on_response_headers"],
  ["responseBody", "proxy_on_response_body"],
] as const;

/** The module for `returns`. */
export function statusFilter(returns: StatusFilterReturns): Uint8Array {
  let data = "";
  let functions = "";
  CALLBACKS.forEach(([key, exportName], index) => {
    const message = exportName.slice("proxy_".length);
    const at = 100 + index * 32;
    data += `(data (i32.const ${at}) "${message}")\n`;
    const value = returns[key] ?? 0;
    const atEnd = key === "requestBody" ? returns.requestBodyAtEnd ?? value : value;
    functions += `(func (export "${exportName}") (param i32) (param i32) (param $end i32) (result i32)
      (drop (call $log (i32.const 2) (i32.const ${at}) (i32.const ${message.length})))
      (if (result i32) (local.get $end) (then (i32.const ${atEnd})) (else (i32.const ${value}))))\n`;
  });
  return compileWat(`(module
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 32768))
    (func (export "malloc") (param $size i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $heap))
      (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
      (local.get $at))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_context_create") (param i32 i32))
    ${data}
    ${functions}
  )`, "status-filter.wat");
}
