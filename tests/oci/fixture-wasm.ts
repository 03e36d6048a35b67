import { compileWat } from "../proxy/wat-filters";

/** The smallest module Envoy loads: ABI marker, allocator, memory, context-create callback. */
export const TINY_FILTER = compileWat(`(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 0))
  (func (export "proxy_on_context_create") (param i32 i32)))`);

/** A valid Wasm module without the ABI marker: Envoy refuses it. */
export const NO_ABI_MARKER = compileWat(`(module (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 0)))`);
