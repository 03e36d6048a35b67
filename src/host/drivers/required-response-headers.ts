/**
 * The check Envoy's filter manager makes on response headers once every encoder filter ran, before
 * they reach the codec (`FilterManager::encodeHeaders`, envoy source/common/http/filter_manager.cc):
 * `HeaderUtility::checkRequiredResponseHeaders` (envoy source/common/http/header_utility.cc) wants a
 * `:status` that parses as an unsigned 64-bit number (`Utility::getResponseStatusOrNullopt`, envoy
 * source/common/http/utility.cc, with `absl::SimpleAtoi`). A filter that removed it or left text
 * there gets a local reply instead: 502, the message as body, details
 * `filter_removed_required_response_headers{missing_required_header:_:status}`. The response
 * headers are already set then, so Envoy sends that reply straight to the codec, past the filters
 * (`DownstreamFilterManager::sendDirectLocalReply`). Any number passes, even 99 or 1000: Envoy's
 * HTTP/1 codec writes it into the status line as it is.
 */
import type { LocalReply } from "../context";
import { HeaderMap } from "../header-map";

/** `absl::SimpleAtoi`'s idea of whitespace (`absl::ascii_isspace`): SP, HT, LF, VT, FF, CR. */
function isAsciiSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * A `:status` value as Envoy reads it (`absl::SimpleAtoi` into `uint64_t`): ASCII whitespace around
 * it is ignored, one `+` may lead, then decimal digits only, at most 2^64-1. Returns undefined
 * for anything else (empty, `abc`, `-1`, `2e2`, `0x10`, `20 0`, an overflow). A value past 2^53 comes
 * back rounded; no codec can write such a status anyway. Bytes, or latin1 text (one char a byte).
 */
export function parseResponseStatus(value: Uint8Array | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const code = typeof value === "string" ? (i: number) => value.charCodeAt(i) : (i: number) => value[i];
  let start = 0;
  let end = value.length;
  while (start < end && isAsciiSpace(code(start))) start++;
  while (end > start && isAsciiSpace(code(end - 1))) end--;
  if (start < end && code(start) === 0x2b /* + */) start++;
  if (start === end) return undefined;
  let status = 0;
  for (let i = start; i < end; i++) {
    const digit = code(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    status = status * 10 + digit;
  }
  // Beyond 2^53 the float above is inexact; the exact bound is checked the slow way only then.
  if (status > Number.MAX_SAFE_INTEGER) {
    let exact = 0n;
    for (let i = start; i < end; i++) exact = exact * 10n + BigInt(code(i) - 0x30);
    if (exact > UINT64_MAX) return undefined;
  }
  return status;
}

/** Envoy's message when `headers` lack a usable `:status`, or undefined when they have one. */
export function requiredResponseHeadersProblem(headers: HeaderMap): string | undefined {
  return parseResponseStatus(headers.get(":status")) === undefined ? "missing required header: :status" : undefined;
}

/**
 * The local reply Envoy's filter manager sends for response headers that failed the check: 502 with
 * the message as a text body and the message in the details, whitespace as `_`.
 */
export function requiredResponseHeadersReply(problem: string): LocalReply {
  return {
    status: 502,
    details: `filter_removed_required_response_headers{${problem.replace(/[ \t\n\v\f\r]/g, "_")}}`,
    body: new TextEncoder().encode(problem),
    headers: new HeaderMap(),
    grpcStatus: undefined,
  };
}
