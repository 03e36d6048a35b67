import { headerValue } from "../header-list";
import type { AccessLogEntry } from "./access-log-entry";

/**
 * Envoy's default access log format, used when a logger gives none
 * (envoy source/common/formatter/substitution_format_string.cc / docs "Default Format String").
 */
export const DEFAULT_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% " +
  '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/** Renders one entry as a log line (the format's own text, newline included). */
export type AccessLogFormatter = (entry: AccessLogEntry) => string;

type Part = string | ((entry: AccessLogEntry) => string);

/** `%NAME%`, `%NAME(arg)%` or `%NAME(arg):max_length%`, as Envoy's substitution format parser reads them. */
const OPERATOR = /%([A-Z][A-Z0-9_]*)(?:\(([^)]*)\))?(?::(\d+))?%/g;

/**
 * Compiles a text format string (Envoy's `text_format_source` / `format`). Supported command
 * operators: START_TIME (default format only), REQ(...), RESP(...) (with `A?B` fallbacks and
 * `:max_length`), PROTOCOL, RESPONSE_CODE, RESPONSE_CODE_DETAILS, RESPONSE_FLAGS,
 * BYTES_RECEIVED, BYTES_SENT, DURATION, UPSTREAM_HOST, UPSTREAM_CLUSTER,
 * DOWNSTREAM_REMOTE_ADDRESS(_WITHOUT_PORT), DOWNSTREAM_LOCAL_ADDRESS(_WITHOUT_PORT). Any other
 * operator is named through `warn` and prints `-`, as Envoy prints a value it does not have.
 */
export function compileAccessLogFormat(format: string, warn: (message: string) => void): AccessLogFormatter {
  const parts: Part[] = [];
  let last = 0;
  for (const match of format.matchAll(OPERATOR)) {
    if (match.index! > last) parts.push(format.slice(last, match.index));
    last = match.index! + match[0].length;
    const [, name, arg, maxLength] = match;
    const value = operator(name, arg, warn);
    const limit = maxLength === undefined ? undefined : Number(maxLength);
    parts.push((entry) => {
      const text = value(entry);
      if (text === undefined || text === "") return "-";
      return limit === undefined ? text : text.slice(0, limit);
    });
  }
  if (last < format.length) parts.push(format.slice(last));
  return (entry) => {
    let line = "";
    for (const part of parts) line += typeof part === "string" ? part : part(entry);
    return line;
  };
}

type Value = (entry: AccessLogEntry) => string | undefined;

function operator(name: string, arg: string | undefined, warn: (message: string) => void): Value {
  switch (name) {
    case "START_TIME":
      if (arg !== undefined && arg !== "") warn(`%START_TIME(${arg})%: custom time formats are not supported; the default (ISO 8601 with milliseconds) is printed`);
      return (entry) => entry.startTime.toISOString();
    case "REQ":
      return headerOperator(arg, warn, name, (entry) => entry.requestHeaders);
    case "RESP":
      return headerOperator(arg, warn, name, (entry) => entry.responseHeaders);
    case "PROTOCOL":
      return (entry) => entry.protocol;
    case "RESPONSE_CODE":
      return (entry) => String(entry.responseCode);
    case "RESPONSE_CODE_DETAILS":
      return (entry) => entry.responseCodeDetails;
    case "RESPONSE_FLAGS":
      return (entry) => entry.responseFlags.join(",");
    case "BYTES_RECEIVED":
      return (entry) => String(entry.bytesReceived);
    case "BYTES_SENT":
      return (entry) => String(entry.bytesSent);
    case "DURATION":
      return (entry) => String(entry.durationMs);
    case "UPSTREAM_HOST":
      return (entry) => entry.upstreamHost;
    case "UPSTREAM_CLUSTER":
      return (entry) => entry.upstreamCluster;
    case "DOWNSTREAM_REMOTE_ADDRESS":
      return (entry) => entry.downstreamRemoteAddress;
    case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT":
      return (entry) => withoutPort(entry.downstreamRemoteAddress);
    case "DOWNSTREAM_LOCAL_ADDRESS":
      return (entry) => entry.downstreamLocalAddress;
    case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT":
      return (entry) => withoutPort(entry.downstreamLocalAddress);
    default:
      warn(`command operator %${name}% is not supported by the dev proxy; it prints -`);
      return () => undefined;
  }
}

/** `REQ(X?Y)`: header X, or Y when X is absent; names are case-insensitive. */
function headerOperator(arg: string | undefined, warn: (message: string) => void, name: string, headers: (entry: AccessLogEntry) => AccessLogEntry["requestHeaders"]): Value {
  if (arg === undefined || arg === "") {
    warn(`%${name}%: a header name is required, e.g. %${name}(:path)%; it prints -`);
    return () => undefined;
  }
  const [first, fallback] = arg.toLowerCase().split("?", 2);
  return (entry) => {
    const list = headers(entry);
    return headerValue(list, first) ?? (fallback === undefined ? undefined : headerValue(list, fallback));
  };
}

function withoutPort(address: string): string {
  const match = /^\[?(.*?)\]?:\d+$/.exec(address);
  return match ? match[1] : address;
}
