/**
 * A filter that rewrites the response `:status` with the value of the upstream's `x-status`
 * header (`-` removes `:status`); a response without `x-status` passes unchanged.
 */
export const STATUS_WRITER_WAT = `(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 32768))
  (data (i32.const 1024) "x-status")
  (data (i32.const 1040) ":status")
  (func (export "malloc") (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $size) (i32.const 8))))
    (local.get $at))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get (i32.const 2) (i32.const 1024) (i32.const 8) (i32.const 1100) (i32.const 1104)))
      (then
        (if (i32.and (i32.eq (i32.load (i32.const 1104)) (i32.const 1)) (i32.eq (i32.load8_u (i32.load (i32.const 1100))) (i32.const 45)))
          (then (drop (call $remove (i32.const 2) (i32.const 1040) (i32.const 7))))
          (else (drop (call $replace (i32.const 2) (i32.const 1040) (i32.const 7) (i32.load (i32.const 1100)) (i32.load (i32.const 1104))))))))
    (i32.const 0)))`;
