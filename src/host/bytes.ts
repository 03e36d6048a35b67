/**
 * Byte helpers shared by the host: header names, values, bodies and properties are bytes, not
 * necessarily UTF-8, so the host stores them as Uint8Array and converts at its edges.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

export const EMPTY_BYTES = new Uint8Array(0);

/** Anything the public APIs accept where bytes are meant. Strings are encoded as UTF-8. */
export type BytesLike = string | Uint8Array;

// Header names and values are short ASCII almost always; below this length a hand-written loop
// beats TextEncoder/TextDecoder (which cross into C++ and allocate twice), and it gives the same
// result for ASCII. Anything else goes through the real codec.
const SHORT_TEXT = 128;

export function toBytes(value: BytesLike): Uint8Array {
  if (typeof value !== "string") return value;
  const length = value.length;
  if (length === 0) return new Uint8Array(0);
  if (length > SHORT_TEXT) return encoder.encode(value);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x80) return encoder.encode(value);
    out[i] = code;
  }
  return out;
}

/** Decodes UTF-8; invalid sequences become U+FFFD, which is fine for display and matching. */
export function bytesToString(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length === 0) return "";
  if (length > SHORT_TEXT) return decoder.decode(bytes);
  for (let i = 0; i < length; i++) if (bytes[i] >= 0x80) return decoder.decode(bytes);
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** Lower-cases ASCII letters only, as Envoy's `LowerCaseString` does; other bytes are kept. */
export function asciiLower(bytes: Uint8Array): Uint8Array {
  let i = 0;
  for (; i < bytes.length; i++) if (bytes[i] >= 0x41 && bytes[i] <= 0x5a) break;
  if (i === bytes.length) return bytes;
  const out = bytes.slice();
  for (; i < out.length; i++) if (out[i] >= 0x41 && out[i] <= 0x5a) out[i] += 0x20;
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
