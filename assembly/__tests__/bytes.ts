// Byte helpers for the specs.

/** Bytes from a list of values 0..255. */
export function bytesOf(values: Array<i32>): ArrayBuffer {
  const out = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(out) + i, <u8>values[i]);
  return out;
}

/** Space-separated lower-case hex of the bytes. */
export function hexOf(buffer: ArrayBuffer): string {
  const digits = "0123456789abcdef";
  let out = "";
  for (let i = 0; i < buffer.byteLength; i++) {
    const b = load<u8>(changetype<usize>(buffer) + i);
    if (i > 0) out += " ";
    out += digits.charAt(b >> 4) + digits.charAt(b & 15);
  }
  return out;
}
