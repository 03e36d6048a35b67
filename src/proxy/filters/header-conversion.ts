/**
 * Conversion between the dev proxy's header lists (strings, as node:http hands them over) and the
 * host's HeaderMap (bytes), done for every request a Wasm filter sees, in both directions. Header
 * text travels as latin1, one char per byte, so bytes that are not UTF-8 survive the round trip.
 *
 * Names, values and the text a plugin writes repeat from request to request, so each has a cache
 * that turns repeated text into the bytes (or string) made last time instead of new ones.
 */
import { EMPTY_BYTES, asciiLower, bytesEqual } from "../../host/bytes";
import { HeaderMap, type LazyHeaderEntries } from "../../host/header-map";
import type { BytePair } from "../../host/pairs";
import type { HeaderList } from "../header-list";

// Header names repeat on every request, so each is encoded once and its bytes shared (HeaderMap
// never writes into the arrays it holds, and lower-cases names itself, so caching the lower-cased
// bytes changes nothing). Bounded, so a client sending ever new names cannot grow it without limit.
const NAME_CACHE_LIMIT = 512;
const nameBytes = new Map<string, Uint8Array>();

/** `name` as lower-cased latin1 bytes, shared with every other caller: never write into them. */
export function headerNameBytes(name: string): Uint8Array {
  let bytes = nameBytes.get(name);
  if (bytes === undefined) {
    bytes = asciiLower(latin1Bytes(name));
    if (nameBytes.size < NAME_CACHE_LIMIT && !hasWideChar(name)) nameBytes.set(name, bytes);
  }
  return bytes;
}

/** True when `text` has a character that latin1 cannot carry (so a round trip through bytes would change it). */
function hasWideChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return true;
  return false;
}

// Node hands header text over as latin1 (one char per byte), so latin1 keeps non-UTF-8 bytes intact.
function latin1Bytes(text: string): Uint8Array {
  if (text.length > 64) return Buffer.from(text, "latin1");
  // A short string is cheaper to copy by hand than through Buffer.from (pool slice + FastBuffer).
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** `bytes` as a string of one char per byte. */
export function latin1String(bytes: Uint8Array): string {
  if (bytes.length > 64) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

// Header values repeat too (`content-type`, `content-length`, `:status`, `:method`), but arrive
// as new strings on every request. A direct-mapped cache checked by content gives the bytes
// encoded last time for an equal string: a hit costs one string compare instead of an array.
const VALUE_SLOTS = 256;
const VALUE_MAX = 64;
const cachedValueStrings: string[] = new Array(VALUE_SLOTS).fill("");
const cachedValueBytes: Uint8Array[] = new Array(VALUE_SLOTS).fill(EMPTY_BYTES);

function valueSlot(value: string): number {
  const length = value.length;
  return (length * 31 + value.charCodeAt(0) * 7 + value.charCodeAt(length - 1) * 3 + value.charCodeAt(length >> 1)) & (VALUE_SLOTS - 1);
}

/**
 * The bytes `headerValueBytes` made for a value equal to `value`, or undefined. Only values without
 * a character above 0xff are kept, so a hit also tells that the bytes carry `value` exactly.
 */
export function recentValueBytes(value: string): Uint8Array | undefined {
  const length = value.length;
  if (length === 0 || length > VALUE_MAX) return undefined;
  const slot = valueSlot(value);
  return cachedValueStrings[slot] === value ? cachedValueBytes[slot] : undefined;
}

/**
 * `value` as latin1 bytes, possibly shared with an earlier caller: never write into them. A value
 * with a character above 0xff keeps only each character's low byte, and is never cached.
 */
export function headerValueBytes(value: string): Uint8Array {
  const cached = recentValueBytes(value);
  if (cached !== undefined) return cached;
  return encodeValue(value, value.length > VALUE_MAX || hasWideChar(value));
}

/** `value`, found in no cache slot, encoded; kept for the next equal value unless `uncacheable`. */
function encodeValue(value: string, uncacheable: boolean): Uint8Array {
  const bytes = latin1Bytes(value);
  if (uncacheable || value.length === 0) return bytes;
  const slot = valueSlot(value);
  cachedValueStrings[slot] = value;
  cachedValueBytes[slot] = bytes;
  return bytes;
}

// Text a plugin writes into headers repeats on every request (`hello`, `world!`, a configured
// name), but arrives as new bytes each time. A small direct-mapped cache of short texts, checked
// by content, turns them back into the same strings without decoding; a miss costs one compare.
const RECENT_TEXT_SLOTS = 128;
const RECENT_TEXT_MAX = 32;
const recentBytes: (Uint8Array | undefined)[] = new Array(RECENT_TEXT_SLOTS).fill(undefined);
const recentStrings: string[] = new Array(RECENT_TEXT_SLOTS).fill("");

/** `bytes` (which the cache may keep: never write into them afterwards) as a latin1 string. */
export function pluginText(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length === 0 || length > RECENT_TEXT_MAX) return latin1String(bytes);
  const slot = (length * 31 + bytes[0] * 7 + bytes[length - 1] * 3 + bytes[length >> 1]) & (RECENT_TEXT_SLOTS - 1);
  const cached = recentBytes[slot];
  // The host hands over the same array for bytes it read before (RecentBytes), so identity comes first.
  if (cached !== undefined && (cached === bytes || bytesEqual(cached, bytes))) return recentStrings[slot];
  const text = latin1String(bytes);
  recentBytes[slot] = bytes;
  recentStrings[slot] = text;
  return text;
}

/**
 * A header list handed to the host as a HeaderMap, remembered so the map converts back cheaply.
 * The map is built only when something reads it (a callback, a property): a filter that never
 * looks at these headers costs no conversion at all, and they go on as the same list. Entries
 * the plugin left alone keep their original value strings instead of being decoded again.
 */
export class ConvertedHeaders implements LazyHeaderEntries {
  /** The map handed to the driver (the plugin may change it). */
  readonly map: HeaderMap;
  /** The entries as built, shared with `map` until the plugin changes it (copy on write). */
  private built: [Uint8Array, Uint8Array][] | null = null;
  /** Every value survived the trip to bytes (none has a character above 0xff). */
  private exact = false;

  constructor(private readonly list: HeaderList) {
    this.map = HeaderMap.lazy(this);
  }

  /** The entries of `map`, built on its first read (LazyHeaderEntries). */
  headerEntries(): [Uint8Array, Uint8Array][] {
    return (this.built ??= this.build());
  }

  /**
   * `headers` (this map or any other) as a header list. Entries the plugin left alone are the
   * original list's own pairs (the list's names are lower-case already, as a HeaderList's are).
   */
  toList(headers: HeaderMap): HeaderList {
    if (headers === this.map && !headers.built) return this.list;
    const pairs = headers.pairs();
    const list: HeaderList = [];
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i];
      const index = this.originalIndex(pair, i);
      list.push(index >= 0 ? this.list[index] : [pluginText(pair[0]), pluginText(pair[1])]);
    }
    return list;
  }

  private build(): [Uint8Array, Uint8Array][] {
    const list = this.list;
    const entries: [Uint8Array, Uint8Array][] = [];
    let exact = true;
    for (let i = 0; i < list.length; i++) {
      const value = list[i][1];
      // Values repeat from request to request; a cached one is known to be exact without a scan.
      let bytes = recentValueBytes(value);
      if (bytes === undefined) {
        const wide = hasWideChar(value);
        if (wide) exact = false;
        bytes = encodeValue(value, wide || value.length > VALUE_MAX);
      }
      entries.push([headerNameBytes(list[i][0]), bytes]);
    }
    // A value with a character above 0xff does not survive the trip to bytes; decode every value then.
    this.exact = exact;
    return entries;
  }

  /** Where `pair` (found at `index` now) was in the original list, or -1 for an entry the plugin made. */
  private originalIndex(pair: BytePair, index: number): number {
    const original = this.built;
    if (original === null || !this.exact) return -1;
    // Entries are replaced, never changed in place, so an entry identical to an original one is it.
    if (index < original.length && original[index] === pair) return index;
    if (original.length > 64) return -1;
    for (let j = 0; j < original.length; j++) if (original[j] === pair) return j;
    return -1;
  }
}

/** A map that came from no converted list (trailers, a local reply's headers) as a header list. */
export function toHeaderList(headers: HeaderMap): HeaderList {
  const pairs = headers.pairs();
  const list: HeaderList = [];
  for (let i = 0; i < pairs.length; i++) list.push([pluginText(pairs[i][0]), latin1String(pairs[i][1])]);
  return list;
}
