/**
 * Envoy's `failure_policy` (reference §4.10): what streams see once the VM has failed.
 * - `fail_closed` (default): HTTP gets a 503 local reply, gRPC status 14, details `wasm_fail_stream`;
 *   TCP connections are closed.
 * - `fail_open`: traffic passes unmodified, no callbacks.
 * - `fail_reload`: like fail_closed until the back-off has passed, then a new VM is created.
 */
export type FailurePolicy = "fail_closed" | "fail_open" | "fail_reload";

/** Response-code details Envoy uses for the fail-closed local reply. */
export const FAIL_STREAM_DETAILS = "wasm_fail_stream";
/** Details Envoy uses when `proxy_close_stream` resets an HTTP stream. */
export const CLOSE_STREAM_DETAILS = "wasm_close_stream";
