import type { ClientRequest } from "node:http";
import type { LocalReply } from "./filters/http-filter";

/**
 * Why an upstream request ended before its response headers, in Envoy's words and with Envoy's
 * stats, from the error node:http reports and whether the connection had been made.
 *
 * Envoy: the connection pool fails a stream whose connection never came up
 * (`ConnPoolImplBase::onConnectionEvent`, envoy source/common/conn_pool/conn_pool_base.cc): a close
 * seen while connecting counts `upstream_cx_connect_fail`, `upstream_cx_destroy` and
 * `upstream_cx_destroy_remote` (`reportUpstreamCxDestroy`), and each pending stream it purges
 * `upstream_rq_pending_failure_eject`; the reason is `remote connection failure` and the transport
 * failure reason the socket's own, `delayed connect error: <strerror>` for a refused connect
 * (envoy source/common/network/connection_impl.cc `onWriteReady`). A connection that was up and
 * then closed under the request resets it with `connection termination` (envoy
 * source/common/http/codec_client.cc `onEvent`), counting the destroy stats with `_with_active_rq`;
 * a response the codec cannot parse is a `protocol error` (`upstream_cx_protocol_error`, and
 * Envoy closes the connection itself: `upstream_cx_destroy_local`). The router then answers
 * (envoy source/common/router/router.cc `Filter::onUpstreamReset`): 503, or 502 for a protocol
 * error, with the body `upstream connect error or disconnect/reset before headers. reset reason:
 * <reason>[, transport failure reason: <transport reason>]` and the details
 * `upstream_reset_before_response_started{<reason>[|<transport reason>]}`, whitespace as `_`. The
 * reason texts are `Http::Utility::resetReasonToString` (envoy source/common/http/utility.cc).
 */
export interface UpstreamReset {
  /** `remote connection failure`, `connection termination` or `protocol error`. */
  reason: string;
  /** The socket's failure text (empty when it has none). */
  transportFailure: string;
  /** The cluster stats Envoy counts for it, without the `cluster.<name>.` prefix. */
  stats: readonly string[];
  /** The access log's response flag (router.cc `streamResetReasonToResponseFlag`): `UF`, `UC` or `UPE`. */
  responseFlag: string;
}

/** strerror(3) texts (glibc) for the connect errors a loopback or LAN upstream gives. */
const STRERROR: Readonly<Record<string, string>> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ETIMEDOUT: "Connection timed out",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
};

const CONNECT_FAILURE_STATS = ["upstream_cx_connect_fail", "upstream_cx_destroy", "upstream_cx_destroy_remote", "upstream_rq_pending_failure_eject"];
const TERMINATION_STATS = ["upstream_cx_destroy", "upstream_cx_destroy_remote", "upstream_cx_destroy_with_active_rq", "upstream_cx_destroy_remote_with_active_rq"];
const PROTOCOL_ERROR_STATS = ["upstream_cx_protocol_error", "upstream_cx_destroy", "upstream_cx_destroy_local", "upstream_cx_destroy_with_active_rq", "upstream_cx_destroy_local_with_active_rq"];

/**
 * Envoy's reset for `error` (from a node:http request before its response) given whether its
 * connection was up (`connected`, see `trackConnection`).
 */
export function classifyUpstreamError(error: NodeJS.ErrnoException, connected: boolean): UpstreamReset {
  const code = error.code ?? "";
  // llhttp's parse errors (HPE_INVALID_CONSTANT, HPE_INVALID_HEADER_TOKEN, …): bytes that are not HTTP;
  // node:http2's ERR_HTTP2_ERROR: nghttp2 found bytes that break the protocol.
  if (code.startsWith("HPE_") || code === "ERR_HTTP2_ERROR") return { reason: "protocol error", transportFailure: "", stats: PROTOCOL_ERROR_STATS, responseFlag: "UPE" };
  if (connected) return { reason: "connection termination", transportFailure: "", stats: TERMINATION_STATS, responseFlag: "UC" };
  return { reason: "remote connection failure", transportFailure: `delayed connect error: ${STRERROR[code] ?? (code || error.message)}`, stats: CONNECT_FAILURE_STATS, responseFlag: "UF" };
}

/** The router's local reply for `reset` (envoy source/common/router/router.cc `Filter::onUpstreamReset`). */
export function upstreamResetReply(reset: UpstreamReset): LocalReply {
  const transport = reset.transportFailure;
  return {
    status: reset.reason === "protocol error" ? 502 : 503,
    headers: [],
    body: Buffer.from(upstreamResetBody(reset)),
    details: `upstream_reset_before_response_started{${reset.reason}${transport === "" ? "" : `|${transport}`}}`.replace(/[ \t\n\v\f\r]/g, "_"),
  };
}

/** The router's reply body for `reset`. */
export function upstreamResetBody(reset: UpstreamReset): string {
  const transport = reset.transportFailure === "" ? "" : `, transport failure reason: ${reset.transportFailure}`;
  return `upstream connect error or disconnect/reset before headers. reset reason: ${reset.reason}${transport}`;
}

/**
 * Watches whether `request`'s connection came up: true at once for a pooled connection reused,
 * or once a new one connects. Read it when the request fails.
 */
export function trackConnection(request: ClientRequest): () => boolean {
  let connected = false;
  request.once("socket", (socket) => {
    if (!socket.connecting) connected = true;
    else socket.once("connect", () => (connected = true));
  });
  return () => connected;
}
