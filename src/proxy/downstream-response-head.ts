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

/** How the connection continues after this response (HTTP/1 only). */
export type ConnectionAfterResponse = "keep-alive" | "close";

/**
 * Writes the head of an HTTP/1.1 or h2c response with only the headers Envoy's codecs send.
 * Node's own additions are suppressed: its `Date` (capitalised, and a second date beside the
 * upstream's), `Connection: keep-alive` and `Keep-Alive: timeout=5`. Envoy's HTTP/1 codec writes
 * the header map as it is, lower-case (envoy source/common/http/http1/codec_impl.cc
 * `StreamEncoderImpl::encodeHeadersBase`), so a kept-alive HTTP/1.1 response carries no
 * `connection` header and one that ends the connection carries `connection: close`, set by the
 * connection manager while it drains (conn_manager_impl.cc `encodeHeaders`). A request without
 * keep-alive (HTTP/1.0, `connection: close`) makes Node close afterwards by itself; Envoy then
 * also says `connection: close` (`saw_connection_close_`).
 *
 * @throws what Node throws for a header it cannot write (the caller resets the stream).
 */
export function writeResponseHead(
  res: ServerResponse | Http2ServerResponse,
  httpVersion: 1 | 2,
  status: number,
  headers: HeaderList,
  connection: ConnectionAfterResponse,
): void {
  res.sendDate = false;
  const outgoing = toOutgoingHeaders(headers);
  if (httpVersion === 1) {
    const http1 = res as ServerResponse;
    if (connection === "close" || !http1.shouldKeepAlive) outgoing.connection = "close";
    // An HTTP/1.0 client keeps the connection only when told (conn_manager_impl.cc, HTTP/1.0 keep-alive).
    else if (http1.req?.httpVersionMinor === 0) outgoing.connection = "keep-alive";
    // Node then persists the connection as HTTP/1.1 says, without announcing it.
    else http1.removeHeader("connection");
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
