/**
 * Bytes cross the boundary to the AssemblyScript spec as "byte strings": one UTF-16 code unit
 * (0..255) per byte (see assembly/testing/bytes.ts). Header names and values, bodies, TCP data,
 * gRPC messages and bytes properties travel this way, so values that are not UTF-8 survive.
 */
import type { BytePair } from "../../host/pairs";
import { decodeFields, encodeFields } from "./field-list";

// String.fromCharCode takes its units as arguments; chunks keep under the engines' argument limit.
const CHUNK = 8192;

/** The byte string of `bytes`. */
export function bytesToWire(bytes: Uint8Array): string {
  let out = "";
  for (let at = 0; at < bytes.length; at += CHUNK) out += String.fromCharCode(...bytes.subarray(at, at + CHUNK));
  return out;
}

/** The bytes of a byte string; throws naming the offset of a code unit above 255. */
export function wireToBytes(wire: string): Uint8Array {
  const out = new Uint8Array(wire.length);
  for (let i = 0; i < wire.length; i++) {
    const unit = wire.charCodeAt(i);
    if (unit > 255) throw new Error(`malformed byte string at offset ${i}: code unit ${unit} is not a byte`);
    out[i] = unit;
  }
  return out;
}

/** A pair list of byte strings (the spec's `Headers.encode()`) as byte pairs. */
export function decodeBytePairList(text: string): BytePair[] {
  const fields = decodeFields(text);
  if (fields.length % 2 !== 0) throw new Error(`malformed pair list: ${fields.length} fields, expected an even count`);
  const pairs: BytePair[] = [];
  for (let i = 0; i < fields.length; i += 2) pairs.push([wireToBytes(fields[i]), wireToBytes(fields[i + 1])]);
  return pairs;
}

/** Byte pairs as the pair list of byte strings the spec's `Headers.decode` reads. */
export function encodeBytePairList(pairs: readonly (readonly [Uint8Array, Uint8Array])[]): string {
  return encodeFields(pairs.flatMap(([name, value]) => [bytesToWire(name), bytesToWire(value)]));
}
