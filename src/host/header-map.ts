/**
 * An ordered, multi-valued header (or metadata) map with Envoy's semantics (reference §5.5):
 * keys are lower-cased on every operation, duplicates are kept in insertion order.
 *
 * Maps are built and read for every request, so this class avoids per-call allocations: names
 * given as strings are encoded and lower-cased once and the bytes shared (see `nameBytes`), and
 * `clone()` shares the entry list until either side changes it. The byte arrays a map holds are
 * never written to, by this class or by the host; callers must not write into them either.
 */
import { asciiLower, bytesEqual, bytesToString, toBytes, type BytesLike } from "./bytes";
import type { BytePair } from "./pairs";

/** Headers as the public APIs accept them: a list of pairs or a plain object. */
export type HeadersInit =
  | ReadonlyArray<readonly [BytesLike, BytesLike]>
  | Readonly<Record<string, BytesLike | readonly BytesLike[]>>;

// Lower-cased name bytes by the name as given. Bounded, so ever new names (a client making them
// up) cannot grow it without limit; past the bound names are encoded per call as before.
const NAME_CACHE_LIMIT = 1024;
const nameCache = new Map<string, Uint8Array>();

/** `key` as lower-cased bytes; string keys come from the cache, so the result must not be written to. */
function nameBytes(key: BytesLike): Uint8Array {
  if (typeof key !== "string") return asciiLower(key);
  let bytes = nameCache.get(key);
  if (bytes === undefined) {
    bytes = asciiLower(toBytes(key));
    if (nameCache.size < NAME_CACHE_LIMIT) nameCache.set(key, bytes);
  }
  return bytes;
}

/** What a `HeaderMap.lazy` map is built from when it is first read. */
export interface LazyHeaderEntries {
  /** The entries, the same list every time it is asked. */
  headerEntries(): [Uint8Array, Uint8Array][];
}

/** The entries of every empty map until it gets its own (maps are made per request, most stay empty or lazy). */
const NO_ENTRIES: [Uint8Array, Uint8Array][] = [];

export class HeaderMap {
  private entries: [Uint8Array, Uint8Array][] = NO_ENTRIES;
  /** True while `entries` may be seen by another map (after `clone`, or `NO_ENTRIES`): copy before changing it. */
  private shared = true;
  /** Builds `entries` on first use (see `lazy`); null once they exist. */
  private source: LazyHeaderEntries | null = null;

  /**
   * A map whose entries `source.headerEntries()` makes on first use, so headers nobody reads are
   * never converted (the dev proxy hands every request's headers to the host; most filters read
   * only some). The list it returns is treated as shared: the map copies it before changing it, so
   * the source may keep and compare it. It may be asked again for a clone that is read on its own,
   * so it must return the same list each time. A source object rather than a closure: this runs
   * for every request, and the object making the entries can be the source itself.
   */
  static lazy(source: LazyHeaderEntries): HeaderMap {
    const map = new HeaderMap();
    map.source = source;
    return map;
  }

  /** False while a `lazy` map's entries have not been built yet. */
  get built(): boolean {
    return this.source === null;
  }

  /** Builds a map from pairs or an object, lower-casing keys. */
  static from(init: HeadersInit | HeaderMap | undefined): HeaderMap {
    if (init === undefined) return new HeaderMap();
    if (init instanceof HeaderMap) return init.clone();
    const map = new HeaderMap();
    if (Array.isArray(init)) {
      const list = init as ReadonlyArray<readonly [BytesLike, BytesLike]>;
      for (let i = 0; i < list.length; i++) map.add(list[i][0], list[i][1]);
    } else {
      const record = init as Record<string, BytesLike | readonly BytesLike[]>;
      for (const k in record) {
        if (!Object.prototype.hasOwnProperty.call(record, k)) continue;
        const v = record[k];
        if (Array.isArray(v)) for (const each of v as readonly BytesLike[]) map.add(k, each);
        else map.add(k, v as BytesLike);
      }
    }
    return map;
  }

  static fromPairs(pairs: readonly BytePair[]): HeaderMap {
    const map = new HeaderMap();
    for (let i = 0; i < pairs.length; i++) map.add(pairs[i][0], pairs[i][1]);
    return map;
  }

  get size(): number {
    return this.rows().length;
  }

  /** Envoy's `byteSize()`: the sum of key and value lengths (what `proxy_get_header_map_size` returns). */
  get byteSize(): number {
    const entries = this.rows();
    let total = 0;
    for (let i = 0; i < entries.length; i++) total += entries[i][0].length + entries[i][1].length;
    return total;
  }

  /** The first value stored under `key`, or undefined. */
  get(key: BytesLike): Uint8Array | undefined {
    const wanted = nameBytes(key);
    const entries = this.rows();
    for (let i = 0; i < entries.length; i++) if (bytesEqual(entries[i][0], wanted)) return entries[i][1];
    return undefined;
  }

  /** Every value stored under `key`, in order. */
  getAll(key: BytesLike): Uint8Array[] {
    const wanted = nameBytes(key);
    const values: Uint8Array[] = [];
    const entries = this.rows();
    for (let i = 0; i < entries.length; i++) if (bytesEqual(entries[i][0], wanted)) values.push(entries[i][1]);
    return values;
  }

  add(key: BytesLike, value: BytesLike): void {
    this.own().push([nameBytes(key), toBytes(value)]);
  }

  /** Sets `key` to exactly this value: the first occurrence keeps its position, others go. */
  replace(key: BytesLike, value: BytesLike): void {
    const wanted = nameBytes(key);
    const entries = this.own();
    let index = 0;
    while (index < entries.length && !bytesEqual(entries[index][0], wanted)) index++;
    if (index === entries.length) {
      entries.push([wanted, toBytes(value)]);
      return;
    }
    entries[index] = [wanted, toBytes(value)];
    removeFrom(entries, wanted, index + 1);
  }

  remove(key: BytesLike): void {
    const wanted = nameBytes(key);
    const entries = this.rows();
    let first = 0;
    while (first < entries.length && !bytesEqual(entries[first][0], wanted)) first++;
    if (first === entries.length) return;
    removeFrom(this.own(), wanted, first);
  }

  clear(): void {
    this.entries = NO_ENTRIES;
    this.shared = true;
    this.source = null;
  }

  /** The entries in order; valid until the map is next changed. */
  pairs(): readonly BytePair[] {
    return this.rows();
  }

  /** The map as [name, value] strings (UTF-8 decoded), for assertions and display. */
  toArray(): [string, string][] {
    const entries = this.rows();
    const out: [string, string][] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) out[i] = [bytesToString(entries[i][0]), bytesToString(entries[i][1])];
    return out;
  }

  /** First value of `key` decoded as UTF-8, or undefined. */
  getString(key: BytesLike): string | undefined {
    const value = this.get(key);
    return value === undefined ? undefined : bytesToString(value);
  }

  /** An independent copy; O(1) until one of the two maps is changed. */
  clone(): HeaderMap {
    const copy = new HeaderMap();
    if (this.source !== null) {
      copy.source = this.source;
      return copy;
    }
    copy.entries = this.entries;
    copy.shared = true;
    this.shared = true;
    return copy;
  }

  /** The entry list, built first if this is a `lazy` map that was not read yet. */
  private rows(): [Uint8Array, Uint8Array][] {
    const source = this.source;
    if (source !== null) {
      this.source = null;
      this.entries = source.headerEntries();
      this.shared = true;
    }
    return this.entries;
  }

  /** The entry list, made private to this map first if a clone shares it. */
  private own(): [Uint8Array, Uint8Array][] {
    this.rows();
    if (this.shared) {
      this.entries = this.entries.slice();
      this.shared = false;
    }
    return this.entries;
  }
}

/** Removes, in place and keeping order, every entry named `name` at or after `from`. */
function removeFrom(entries: [Uint8Array, Uint8Array][], name: Uint8Array, from: number): void {
  let kept = from;
  for (let i = from; i < entries.length; i++) {
    if (bytesEqual(entries[i][0], name)) continue;
    entries[kept++] = entries[i];
  }
  entries.length = kept;
}
