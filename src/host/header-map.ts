/**
 * An ordered, multi-valued header (or metadata) map with Envoy's semantics (reference §5.5):
 * keys are lower-cased on every operation, duplicates are kept in insertion order.
 */
import { asciiLower, bytesEqual, bytesToString, toBytes, type BytesLike } from "./bytes";
import type { BytePair } from "./pairs";

/** Headers as the public APIs accept them: a list of pairs or a plain object. */
export type HeadersInit =
  | ReadonlyArray<readonly [BytesLike, BytesLike]>
  | Readonly<Record<string, BytesLike | readonly BytesLike[]>>;

export class HeaderMap {
  private entries: [Uint8Array, Uint8Array][] = [];

  /** Builds a map from pairs or an object, lower-casing keys. */
  static from(init: HeadersInit | HeaderMap | undefined): HeaderMap {
    const map = new HeaderMap();
    if (init === undefined) return map;
    if (init instanceof HeaderMap) {
      map.entries = init.entries.map(([k, v]) => [k, v]);
      return map;
    }
    if (Array.isArray(init)) {
      for (const [k, v] of init as ReadonlyArray<readonly [BytesLike, BytesLike]>) map.add(toBytes(k), toBytes(v));
    } else {
      for (const [k, v] of Object.entries(init as Record<string, BytesLike | readonly BytesLike[]>)) {
        if (Array.isArray(v)) for (const each of v as readonly BytesLike[]) map.add(toBytes(k), toBytes(each));
        else map.add(toBytes(k), toBytes(v as BytesLike));
      }
    }
    return map;
  }

  static fromPairs(pairs: readonly BytePair[]): HeaderMap {
    const map = new HeaderMap();
    for (const [k, v] of pairs) map.add(k, v);
    return map;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Envoy's `byteSize()`: the sum of key and value lengths (what `proxy_get_header_map_size` returns). */
  get byteSize(): number {
    let total = 0;
    for (const [k, v] of this.entries) total += k.length + v.length;
    return total;
  }

  /** The first value stored under `key`, or undefined. */
  get(key: BytesLike): Uint8Array | undefined {
    const wanted = asciiLower(toBytes(key));
    for (const [k, v] of this.entries) if (bytesEqual(k, wanted)) return v;
    return undefined;
  }

  /** Every value stored under `key`, in order. */
  getAll(key: BytesLike): Uint8Array[] {
    const wanted = asciiLower(toBytes(key));
    return this.entries.filter(([k]) => bytesEqual(k, wanted)).map(([, v]) => v);
  }

  add(key: BytesLike, value: BytesLike): void {
    this.entries.push([asciiLower(toBytes(key)), toBytes(value)]);
  }

  /** Sets `key` to exactly this value: the first occurrence keeps its position, others go. */
  replace(key: BytesLike, value: BytesLike): void {
    const wanted = asciiLower(toBytes(key));
    const index = this.entries.findIndex(([k]) => bytesEqual(k, wanted));
    if (index < 0) {
      this.entries.push([wanted, toBytes(value)]);
      return;
    }
    this.entries[index] = [wanted, toBytes(value)];
    this.entries = this.entries.filter(([k], i) => i === index || !bytesEqual(k, wanted));
  }

  remove(key: BytesLike): void {
    const wanted = asciiLower(toBytes(key));
    this.entries = this.entries.filter(([k]) => !bytesEqual(k, wanted));
  }

  clear(): void {
    this.entries = [];
  }

  pairs(): readonly BytePair[] {
    return this.entries;
  }

  /** The map as [name, value] strings (UTF-8 decoded), for assertions and display. */
  toArray(): [string, string][] {
    return this.entries.map(([k, v]) => [bytesToString(k), bytesToString(v)]);
  }

  /** First value of `key` decoded as UTF-8, or undefined. */
  getString(key: BytesLike): string | undefined {
    const value = this.get(key);
    return value === undefined ? undefined : bytesToString(value);
  }

  clone(): HeaderMap {
    return HeaderMap.from(this);
  }
}
