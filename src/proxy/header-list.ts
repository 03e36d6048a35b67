import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/**
 * A header map as Envoy and the Proxy-Wasm ABI see it: ordered (name, value) pairs, names
 * lower-case, pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`, `:status`) first,
 * duplicates kept as separate entries.
 */
export type HeaderList = Array<[string, string]>;

/** Connection-level headers that never cross a proxy hop (RFC 9110 §7.6.1, plus h2 rules). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "http2-settings",
]);

/** True for a name that must not be forwarded to the next hop. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/** The first value of `name` (lower-case), or undefined when absent. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  for (const [key, value] of headers) if (key === name) return value;
  return undefined;
}

/** A copy of `headers` without any entry named `name`. */
export function withoutHeader(headers: HeaderList, name: string): HeaderList {
  return headers.filter(([key]) => key !== name);
}

/** A copy of `headers` where `name` has exactly one entry, `value` (appended if it was absent). */
export function withHeader(headers: HeaderList, name: string, value: string): HeaderList {
  const out: HeaderList = [];
  let replaced = false;
  for (const [key, existing] of headers) {
    if (key !== name) out.push([key, existing]);
    else if (!replaced) {
      out.push([name, value]);
      replaced = true;
    }
  }
  if (!replaced) out.push([name, value]);
  return out;
}

/**
 * Converts Node's raw header array (`[name, value, name, value, ...]`, as received) into pairs.
 * Names are lower-cased; hop-by-hop headers are dropped because Envoy's codecs consume them.
 */
export function fromRawHeaders(raw: string[]): HeaderList {
  const pairs: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (isHopByHop(name)) continue;
    pairs.push([name, raw[i + 1]]);
  }
  return pairs;
}

/** Converts Node's parsed header object into pairs (arrays become repeated entries). */
export function fromHeaderObject(headers: IncomingHttpHeaders | NodeJS.Dict<string | string[]>): HeaderList {
  const pairs: HeaderList = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (isHopByHop(lower)) continue;
    for (const one of Array.isArray(value) ? value : [value]) pairs.push([lower, String(one)]);
  }
  return pairs;
}

/**
 * Converts pairs into the object form node:http and node:http2 accept when sending, skipping
 * pseudo-headers (they travel as the request line / status line) and hop-by-hop headers.
 * Repeated names become arrays, which Node writes as repeated header lines, except
 * `content-length`: Envoy keeps it as one inline entry and appends a second value to the first
 * with `,` (`HeaderMapImpl::insertByKey` / `appendToHeader`, source/common/http/header_map_impl.cc),
 * so a filter that adds one more never puts two `Content-Length` lines on the wire.
 */
export function toOutgoingHeaders(headers: HeaderList): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of headers) {
    if (name.startsWith(":") || isHopByHop(name)) continue;
    const previous = out[name];
    if (previous === undefined) out[name] = value;
    else if (name === "content-length") out[name] = `${String(previous)},${value}`;
    else if (Array.isArray(previous)) previous.push(value);
    else out[name] = [String(previous), value];
  }
  return out;
}

/** Trailers in the object form `res.addTrailers` expects (pseudo-headers are never trailers). */
export function toTrailerObject(trailers: HeaderList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of trailers) {
    if (name.startsWith(":")) continue;
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}
