/**
 * The "pairs" serialization of header and metadata maps (reference §3.2).
 */
import { EMPTY_BYTES } from "./bytes";

/** One entry of a serialized map: raw key and value bytes. */
export type BytePair = readonly [Uint8Array, Uint8Array];

/** cpp-host limits: inputs over these sizes are treated as empty (§3.2). */
const MAX_PAIRS_BYTES = 1024 * 1024;
const MAX_PAIRS_COUNT = 1024;

/** Serializes pairs; an empty list serializes to zero bytes, as cpp-host emits it. */
export function encodePairs(pairs: readonly BytePair[]): Uint8Array {
  if (pairs.length === 0) return EMPTY_BYTES;
  let size = 4;
  for (const [k, v] of pairs) size += 10 + k.length + v.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, pairs.length, true);
  let lengthAt = 4;
  let dataAt = 4 + pairs.length * 8;
  for (const [k, v] of pairs) {
    view.setUint32(lengthAt, k.length, true);
    view.setUint32(lengthAt + 4, v.length, true);
    lengthAt += 8;
    out.set(k, dataAt);
    dataAt += k.length + 1;
    out.set(v, dataAt);
    dataAt += v.length + 1;
  }
  return out;
}

/**
 * Parses pairs the way cpp-host's `toPairs` does: any malformation (short buffer, too large, too
 * many entries, overrun, missing NUL terminator, trailing bytes) yields an empty list, never an
 * error. The returned slices are copies, so they stay valid after wasm memory grows.
 */
export function decodePairs(data: Uint8Array): BytePair[] {
  if (data.length < 4 || data.length > MAX_PAIRS_BYTES) return [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint32(0, true);
  if (count > MAX_PAIRS_COUNT) return [];
  let dataAt = 4 + count * 8;
  if (dataAt > data.length) return [];
  const out: BytePair[] = [];
  for (let i = 0; i < count; i++) {
    const keyLength = view.getUint32(4 + i * 8, true);
    const valueLength = view.getUint32(8 + i * 8, true);
    if (dataAt + keyLength + 1 > data.length) return [];
    const key = data.slice(dataAt, dataAt + keyLength);
    dataAt += keyLength;
    if (data[dataAt++] !== 0) return [];
    if (dataAt + valueLength + 1 > data.length) return [];
    const value = data.slice(dataAt, dataAt + valueLength);
    dataAt += valueLength;
    if (data[dataAt++] !== 0) return [];
    out.push([key, value]);
  }
  if (dataAt !== data.length) return [];
  return out;
}
