import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import { headerValue, toOutgoingHeaders, withHeader, type HeaderList } from "./header-list";

/**
 * The response head as Envoy's connection manager hands it to the codec
 * (`ConnectionManagerImpl::ActiveStream::encodeHeaders`, envoy source/common/http/conn_manager_impl.cc):
 * a `date` is added only when the response has none (the upstream's is kept), then `server` is
 * overwritten with `envoy` (server_header_transformation OVERWRITE, the default). Both are
 * lower-case and, when absent, appended after the other headers, as Envoy's header map appends
 * a new inline header.
 */
export function withEnvoyResponseHeaders(headers: HeaderList, now = Date.now()): HeaderList {
  const dated = headerValue(headers, "date") === undefined ? [...headers, ["date", httpDate(now)] as [string, string]] : headers;
  return withHeader(dated, "server", "envoy");
}

/** What the codec needs to know besides the headers. */
export interface ResponseHeadOptions {
  /** HTTP/1: whether the connection ends after this response (the connection manager drains it). */
  connection: "keep-alive" | "close";
  /** No body follows the headers. */
  endStream: boolean;
  /** The request was HEAD (no body and no length of its own). */
  headRequest: boolean;
}

/**
 * Writes the head of an HTTP/1.1 or h2c response with only the headers Envoy's codecs send, in
 * their order. Node's own additions are suppressed: its `Date` (capitalised, and a second date
 * beside the upstream's), `Connection: keep-alive`, `Keep-Alive: timeout=5` and its capitalised
 * `Transfer-Encoding`. Envoy's HTTP/1 codec writes the header map as it is, lower-case, then
 * what framing needs (envoy source/common/http/http1/codec_impl.cc
 * `StreamEncoderImpl::encodeHeadersBase`): without a `content-length`, `content-length: 0` for a
 * response with no body (not for 1xx, 204, 304 or HEAD) or `transfer-encoding: chunked` for one
 * with a body (not for HTTP/1.0). The connection manager puts `connection: close` in the map when
 * it drains the connection (conn_manager_impl.cc `encodeHeaders`), so a kept-alive HTTP/1.1
 * response carries no `connection` header. A request without keep-alive (`connection: close`,
 * HTTP/1.0) makes Node close afterwards; Envoy then says `connection: close` too
 * (`saw_connection_close_`), and `connection: keep-alive` to an HTTP/1.0 keep-alive request.
 *
 * @throws what Node throws for a header it cannot write (the caller resets the stream).
 */
export function writeResponseHead(
  res: ServerResponse | Http2ServerResponse,
  httpVersion: 1 | 2,
  status: number,
  headers: HeaderList,
  options: ResponseHeadOptions,
): void {
  res.sendDate = false;
  const outgoing = toOutgoingHeaders(headers);
  if (httpVersion === 1) {
    const http1 = res as ServerResponse;
    const http10 = http1.req?.httpVersionMinor === 0;
    if (options.connection === "close" || !http1.shouldKeepAlive) outgoing.connection = "close";
    else if (http10) outgoing.connection = "keep-alive";
    // Node then persists the connection as HTTP/1.1 says, without announcing it.
    else http1.removeHeader("connection");
    if (outgoing["content-length"] === undefined && status >= 200 && status !== 204 && status !== 304) {
      if (options.endStream) {
        if (!options.headRequest) outgoing["content-length"] = "0";
      } else if (!http10) {
        outgoing["transfer-encoding"] = "chunked";
      }
    }
  }
  res.writeHead(status, outgoing);
}

let cachedSecond = -1;
let cachedDate = "";

/** IMF-fixdate (RFC 9110 §5.6.7), the format of Envoy's date provider; formatted once a second. */
export function httpDate(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(second * 1000).toUTCString();
  }
  return cachedDate;
}
