import { headerValue } from "../header-list";
import type { AccessLogEntry } from "./access-log-entry";

/**
 * Envoy's default access log format, used when a logger gives none (envoy
 * source/common/formatter/http_formatter_context.cc `DEFAULT_FORMAT`; older Envoys spell the
 * header operators `REQ`/`RESP`, the same operators).
 */
export const DEFAULT_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQUEST_HEADER(:METHOD)% %REQUEST_HEADER(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% " +
  '%RESPONSE_HEADER(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQUEST_HEADER(X-FORWARDED-FOR)%" "%REQUEST_HEADER(USER-AGENT)%" ' +
  '"%REQUEST_HEADER(X-REQUEST-ID)%" "%REQUEST_HEADER(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/** Renders one entry as a log line (the format's own text, newline included). */
export type AccessLogFormatter = (entry: AccessLogEntry) => string;

type Part = string | ((entry: AccessLogEntry) => string);

/** `%NAME%`, `%NAME(arg)%` or `%NAME(arg):max_length%`, as Envoy's substitution format parser reads them. */
const OPERATOR = /%([A-Z][A-Z0-9_]*)(?:\(([^)]*)\))?(?::(\d+))?%/g;

/**
 * Compiles a text format string (Envoy's `text_format_source` / `format`). Supported command
 * operators: START_TIME (default, or a strftime format, see `compileTimeFormat`), REQ(...) or
 * REQUEST_HEADER(...), RESP(...) or RESPONSE_HEADER(...) (with `A?B` fallbacks and `:max_length`), PROTOCOL, RESPONSE_CODE, RESPONSE_CODE_DETAILS, RESPONSE_FLAGS,
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
    case "START_TIME": {
      if (arg === undefined || arg === "") return (entry) => entry.startTime.toISOString();
      const format = compileTimeFormat(arg, (directive) => warn(`%START_TIME(${arg})%: ${directive} is not supported; it is printed as it is`));
      return (entry) => format(entry.startTime);
    }
    case "REQ":
    case "REQUEST_HEADER":
      return headerOperator(arg, warn, name, (entry) => entry.requestHeaders);
    case "RESP":
    case "RESPONSE_HEADER":
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

/**
 * A START_TIME format as Envoy's date formatter reads it, in UTC (envoy
 * source/common/common/utility.cc `DateFormatter`): `%Y %m %d %H %M %S %F %T %z %Z %s %j %e %a %b
 * %%` as strftime, and Envoy's fractional seconds `%f` (nanoseconds, 9 digits) and `%1f`..`%9f`.
 * Another directive goes to `unsupported` and is printed as written.
 */
export function compileTimeFormat(format: string, unsupported: (directive: string) => void): (time: Date) => string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const parts: Array<string | ((time: Date) => string)> = [];
  const directives: Record<string, (time: Date) => string> = {
    Y: (t) => String(t.getUTCFullYear()),
    m: (t) => pad(t.getUTCMonth() + 1),
    d: (t) => pad(t.getUTCDate()),
    e: (t) => String(t.getUTCDate()).padStart(2, " "),
    H: (t) => pad(t.getUTCHours()),
    M: (t) => pad(t.getUTCMinutes()),
    S: (t) => pad(t.getUTCSeconds()),
    F: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`,
    T: (t) => `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`,
    z: () => "+0000",
    Z: () => "UTC",
    s: (t) => String(Math.floor(t.getTime() / 1000)),
    j: (t) => pad(Math.floor((t.getTime() - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3),
    a: (t) => days[t.getUTCDay()],
    b: (t) => months[t.getUTCMonth()],
    "%": () => "%",
  };
  const fraction = (digits: number) => (t: Date) => pad(t.getUTCMilliseconds(), 3).padEnd(9, "0").slice(0, digits);
  let literal = "";
  for (let i = 0; i < format.length; i++) {
    const char = format[i];
    if (char !== "%" || i + 1 >= format.length) {
      literal += char;
      continue;
    }
    let directive = format[i + 1];
    let render: ((time: Date) => string) | undefined = directives[directive];
    if (directive === "f") render = fraction(9);
    else if (/[1-9]/.test(directive) && format[i + 2] === "f") {
      render = fraction(Number(directive));
      directive += "f";
    }
    if (render === undefined) {
      unsupported(`%${directive}`);
      literal += `%${directive}`;
    } else {
      if (literal !== "") parts.push(literal);
      literal = "";
      parts.push(render);
    }
    i += directive.length;
  }
  if (literal !== "") parts.push(literal);
  return (time) => parts.map((part) => (typeof part === "string" ? part : part(time))).join("");
}
