import { utf8Valid } from "../runtime/utf8";

/**
 * True if `bytes` are well-formed UTF-8: no stray continuation bytes, overlong forms,
 * surrogate code points (U+D800..U+DFFF), code points past U+10FFFF or truncated sequences.
 * An empty buffer is valid. Legal anywhere. Use it before decoding bytes from the host (header
 * values, bodies, properties) when invalid input must be refused rather than shown as U+FFFD.
 */
export function isValidUtf8(bytes: ArrayBuffer): bool {
  return utf8Valid(changetype<usize>(bytes), bytes.byteLength);
}
