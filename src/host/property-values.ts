/**
 * Encoding of property values the way Envoy serializes CEL values (reference §3.4), and the path
 * walk over a property tree (§3.3).
 */
import { toBytes } from "./bytes";
import { encodePairs, type BytePair } from "./pairs";
import type { PropertyTree, PropertyValue } from "./plugin-info";

/** True for values that are maps (plain objects), as opposed to leaves with a special encoding. */
export function isPropertyTree(value: PropertyValue | undefined): value is PropertyTree {
  return (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Date) &&
    !Array.isArray(value) &&
    !("duration" in value && typeof (value as { duration: unknown }).duration === "number" && Object.keys(value).length === 1)
  );
}

function int64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, value), true);
  return out;
}

/**
 * Bytes Envoy would return for `value`, or undefined for null (Envoy: `SerializationFailure`).
 * Integers are int64 LE, other numbers doubles, booleans 1 byte, dates and `{duration: ms}`
 * int64 nanoseconds, maps and lists the pairs encoding.
 */
export function encodePropertyValue(value: PropertyValue): Uint8Array | undefined {
  if (value === null) return undefined;
  if (typeof value === "string" || value instanceof Uint8Array) return toBytes(value);
  if (typeof value === "boolean") return new Uint8Array([value ? 1 : 0]);
  if (typeof value === "bigint") return int64(value);
  if (typeof value === "number") {
    if (Number.isInteger(value)) return int64(BigInt(value));
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, value, true);
    return out;
  }
  if (value instanceof Date) return int64(BigInt(value.getTime()) * 1_000_000n);
  if (Array.isArray(value)) {
    const pairs: BytePair[] = [];
    for (const element of value as readonly PropertyValue[]) {
      const encoded = encodePropertyValue(element);
      if (encoded === undefined) return undefined;
      pairs.push([encoded, new Uint8Array(0)]);
    }
    return encodePairs(pairs);
  }
  if (!isPropertyTree(value)) return int64(BigInt(Math.round((value as unknown as { duration: number }).duration * 1e6)));
  const pairs: BytePair[] = [];
  for (const [key, element] of Object.entries(value)) {
    const encoded = encodePropertyValue(element);
    if (encoded === undefined) return undefined;
    pairs.push([toBytes(key), encoded]);
  }
  return encodePairs(pairs);
}

/** Follows `segments` into `value`: map keys, list indexes; undefined when a step does not exist. */
export function walkProperty(value: PropertyValue | undefined, segments: readonly string[]): PropertyValue | undefined {
  let current = value;
  for (const segment of segments) {
    if (current === undefined) return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = (current as readonly PropertyValue[])[Number(segment)];
    } else if (isPropertyTree(current)) {
      const tree: PropertyTree = current;
      current = Object.prototype.hasOwnProperty.call(tree, segment) ? tree[segment] : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

/** Deep merge of two trees; `over` wins for leaves. */
export function mergeTrees(base: PropertyTree, over: PropertyTree): PropertyTree {
  const out: Record<string, PropertyValue> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = out[key];
    out[key] = isPropertyTree(existing) && isPropertyTree(value) ? mergeTrees(existing, value) : value;
  }
  return out;
}
