import type { HeaderMap } from "../host/header-map";
import { latin1String } from "./filters/header-conversion";
import type { LocalReply } from "./filters/http-filter";
import type { HeaderList } from "./header-list";

/**
 * The checks Envoy's upstream codecs make before they put a request head on the wire, so a filter
 * that wrote a header no HTTP peer may receive ends its own stream the way Envoy ends it, instead
 * of reaching node:http (which throws, and an uncaught throw ends the whole process).
 *
 * Envoy (without UHV, the default build): `RequestEncoderImpl::encodeHeaders` in
 * source/common/http/http1/codec_impl.cc (and the HTTP/2 codec alike) runs
 * `HeaderUtility::checkRequiredRequestHeaders` then `HeaderUtility::checkValidRequestHeaders`
 * (source/common/http/header_utility.cc); a failure makes `UpstreamCodecFilter::decodeHeaders`
 * (source/common/router/upstream_codec_filter.cc) send a local reply: 503, the status message as
 * the body, details `filter_removed_required_request_headers{<message, whitespace as _>}`.
 *
 * Header text here is latin1, one char per byte, as node:http hands it over.
 */

/** `tchar` (RFC 9110 §5.6.2): Envoy's `kGenericHeaderNameCharTable` and node:http's token check. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Field-value bytes Envoy accepts (`headerValueIsValid`: HTAB, SP..~ and obs-text 0x80-0xff; no
 * NUL, CR, LF, other controls or DEL). node:http accepts exactly the same set.
 */
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * What node:http refuses in a request target (`INVALID_PATH_REGEX`): controls, SP, DEL and
 * anything above 0xff. Envoy's value check lets SP through, and its HTTP/1 codec writes such a
 * `:path` verbatim into the request line; Node's client cannot, so the dev proxy stops there.
 */
const INVALID_PATH_CHAR = /[^\x21-\xff]/;

/** True when `name` is a header name Envoy's codec sends: a token, or `:` and a token. */
export function isValidHeaderName(name: string): boolean {
  return TOKEN.test(name.startsWith(":") ? name.slice(1) : name);
}

/** True when `value` has no byte Envoy's codec (and node:http) refuses in a header value. */
export function isValidHeaderValue(value: string): boolean {
  return !INVALID_VALUE_CHAR.test(value);
}

/**
 * Why an upstream request with these headers cannot be sent, in Envoy's words
 * (`missing required header: :path`, `invalid header value for: x-a`, `invalid header name: x a`),
 * or undefined when it can. Checked in Envoy's order: required pseudo-headers, then each entry in
 * map order. Beyond Envoy's checks, a `:method` that is not a token or a `:path` with a byte
 * node:http refuses is reported as an invalid value too: Envoy's HTTP/1 codec would write it into
 * the request line as it is (the upstream then decides), which Node's client cannot do.
 */
export function requestHeadersProblem(headers: HeaderList): string | undefined {
  let method: string | undefined;
  let path: string | undefined;
  for (const [name, value] of headers) {
    if (name === ":method" && method === undefined) method = value;
    else if (name === ":path" && path === undefined) path = value;
  }
  if (method === undefined) return "missing required header: :method";
  if (method === "CONNECT") {
    if (!headers.some(([name]) => name === ":authority")) return "missing required header: :authority";
  } else if (path === undefined) {
    return "missing required header: :path";
  }
  const invalid = firstInvalidEntry(headers);
  if (invalid !== undefined) return invalid;
  if (!TOKEN.test(method)) return invalidValueMessage(":method");
  if (path !== undefined && INVALID_PATH_CHAR.test(path)) return invalidValueMessage(":path");
  return undefined;
}

/**
 * Envoy's message for the first entry whose name or value its codec refuses (the text of
 * `checkValidRequestHeaders`), or undefined when every entry is valid. Also right for trailers,
 * gRPC metadata and response headers, which the same characters would break.
 */
export function firstInvalidEntry(headers: HeaderList): string | undefined {
  for (const [name, value] of headers) {
    if (!isValidHeaderName(name)) return `invalid header name: ${escapeHeaderKey(name)}`;
    if (!isValidHeaderValue(value)) return invalidValueMessage(name);
  }
  return undefined;
}

/**
 * The local reply Envoy's upstream codec filter sends when the codec refused the request head
 * (source/common/router/upstream_codec_filter.cc): 503, the message as a text body.
 */
export function codecRejectionReply(problem: string): LocalReply {
  return {
    status: 503,
    headers: [],
    body: Buffer.from(problem),
    details: `filter_removed_required_request_headers{${problem.replace(/[ \t\n\v\f\r]/g, "_")}}`,
  };
}

function invalidValueMessage(name: string): string {
  return `invalid header value for: ${escapeHeaderKey(name)}`;
}

/**
 * A header name escaped as Envoy's `JsonEscaper::escapeString` does before it puts one in an
 * error text: `"` and `\` escaped, controls as `\n`-style or `\u00XX` escapes, the rest as is.
 * JSON string escaping is exactly that for one-byte text.
 */
function escapeHeaderKey(name: string): string {
  return JSON.stringify(name).slice(1, -1);
}

/** A host header map (a callout's headers, trailers or metadata) as latin1 text pairs: one char per byte. */
export function latin1List(map: HeaderMap): HeaderList {
  return map.pairs().map(([name, value]) => [latin1String(name), latin1String(value)]);
}
