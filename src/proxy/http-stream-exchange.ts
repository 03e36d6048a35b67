import { randomUUID } from "node:crypto";
import type { ClientRequest, IncomingMessage, ServerResponse } from "node:http";
import { constants as http2Constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { setLongTimeout, type LongTimeout } from "../host/long-timeout";
import type { RouteConfig } from "./config/dev-proxy-config";
import { buildFilterChain, localReplyHeaders } from "./filters/filter-chain";
import type { HttpFilterFactory, HttpFilterSink, HttpStreamInfo, LocalReply } from "./filters/http-filter";
import type { AccessLogWriter } from "./access-log/access-log-writer";
import { addressText, StreamLog } from "./access-log/stream-log";
import { DownstreamConnection } from "./downstream-connection";
import { downstreamSocket } from "./downstream-listener";
import { writeResponseHead, withEnvoyResponseHeaders } from "./downstream-response-head";
import { headerValue, isHopByHop, toTrailerObject, withHeader, type HeaderList } from "./header-list";
import { codecRejectionReply, firstInvalidEntry, requestHeadersProblem } from "./header-validation";
import type { ProxyLogger } from "./proxy-logger";
import { parseResponseStatus } from "../host/drivers/required-response-headers";
import type { ProxyStats } from "./proxy-stats";
import { H2UpstreamRequest, type UpstreamRequest, type UpstreamResponse } from "./h2-upstream-request";
import { isUnresolvedHost, NO_HEALTHY_UPSTREAM_BODY } from "./unresolved-host";
import { applyHeaderMutations } from "./router/header-mutations";
import { rewrittenPath, type RouteTable } from "./router/route-table";
import { responseHeadersOf, type UpstreamPool } from "./upstream-pool";
import { classifyUpstreamError, trackConnection, upstreamResetReply, type UpstreamReset } from "./upstream-reset";

export type DownstreamRequest = IncomingMessage | Http2ServerRequest;
export type DownstreamResponse = ServerResponse | Http2ServerResponse;

/** What an exchange needs from the proxy that owns it. */
export interface ExchangeContext {
  filters: readonly HttpFilterFactory[];
  routes: RouteTable;
  /** The HCM's `strip_any_host_port` / `strip_matching_host_port`. */
  stripHostPort?: "any" | "matching";
  /** The router's `suppress_envoy_headers`. */
  suppressEnvoyHeaders?: boolean;
  /** The chain has a filter that writes dynamic metadata: give each stream its own. */
  dynamicMetadata?: boolean;
  upstreams: UpstreamPool;
  logger: ProxyLogger;
  stats: ProxyStats;
  /** The HCM's access logs; null or absent when none is configured. */
  accessLog?: AccessLogWriter | null;
}

/** Envoy's reply texts for router failures, so clients see what they would behind Envoy. */
const NO_ROUTE: LocalReply = { status: 404, headers: [], body: Buffer.alloc(0), details: "route_not_found" };
const UNKNOWN_CLUSTER: LocalReply = {
  status: 503,
  headers: [],
  body: Buffer.alloc(0),
  details: "cluster_not_found",
};
const NO_HEALTHY_UPSTREAM: LocalReply = {
  status: 503,
  headers: [],
  body: Buffer.from(NO_HEALTHY_UPSTREAM_BODY),
  details: "no_healthy_upstream",
};
const UPSTREAM_TIMEOUT: LocalReply = {
  status: 504,
  headers: [],
  body: Buffer.from("upstream request timeout"),
  details: "upstream_response_timeout",
};

/**
 * Plays one downstream request through the filter chain to its upstream and the response back,
 * streaming bodies chunk by chunk in both directions. Works the same for HTTP/1.1 and h2c
 * because both arrive through Node's compatibility API.
 */
export function runHttpExchange(req: DownstreamRequest, res: DownstreamResponse, context: ExchangeContext): void {
  const httpVersion: 1 | 2 = req.httpVersionMajor === 2 ? 2 : 1;
  const socket = downstreamSocket(req);
  // Counted open until `finish`, so a connection closed under it counts it (`..._active_rq`).
  const connection = DownstreamConnection.of(socket);
  connection?.streamStarted();
  let requestHeaders = downstreamRequestHeaders(req, httpVersion);
  if (context.stripHostPort !== undefined) requestHeaders = withHostPortStripped(requestHeaders, context.stripHostPort, socket?.localPort ?? 0);
  const route = context.routes.route(requestHeaders);
  const info: HttpStreamInfo = {
    httpVersion,
    downstreamRemoteAddress: socket?.remoteAddress ?? "",
    downstreamRemotePort: socket?.remotePort ?? 0,
    downstreamLocalAddress: socket?.localAddress ?? "",
    downstreamLocalPort: socket?.localPort ?? 0,
    routeClusterName: route?.cluster ?? "",
    // Every field in the literal, so every stream's info has one shape.
    routeProperties: route === undefined ? undefined : context.routes.properties(route),
    dynamicMetadata: context.dynamicMetadata === true ? {} : undefined,
    routeCacheCleared: false,
  };
  context.stats.http("downstream_rq_total");
  // Built only when an access log will read it.
  const log = context.accessLog
    ? new StreamLog(
        requestHeaders,
        httpVersion === 2 ? "HTTP/2" : `HTTP/1.${req.httpVersionMinor}`,
        addressText(socket?.remoteAddress, socket?.remotePort),
        addressText(socket?.localAddress, socket?.localPort),
        route?.cluster ?? "",
      )
    : undefined;

  let upstreamRequest: UpstreamRequest | undefined;
  /** The upstream response being relayed, and its cluster (flow control pauses it). */
  let upstreamResponse: UpstreamResponse | undefined;
  let upstreamCluster = "";
  let upstreamTimer: LongTimeout | undefined;
  let responseStarted = false;
  let upstreamResponded = false;
  /** The upstream response was received whole (its last byte is on its way downstream). */
  let upstreamComplete = false;
  let finished = false;
  let replying = false;
  /** The whole request arrived (the downstream's end of stream was read). */
  let requestComplete = false;

  const finish = (): void => {
    if (finished) return;
    finished = true;
    connection?.streamEnded();
    upstreamTimer?.cancel();
    // A stream that ended before its upstream response did (a 500 for a response past the buffer
    // limit) leaves nobody to read the rest: Envoy's router resets the upstream request.
    if (!upstreamComplete) abortUpstream();
    chain.finish();
    if (log !== undefined) context.accessLog?.record(log.entry());
  };

  const abortUpstream = (): void => {
    upstreamTimer?.cancel();
    upstreamRequest?.destroy();
    upstreamRequest = undefined;
  };

  /** A reply made by the router (after every filter): it runs through all filters' response side. */
  const routerReply = (reply: LocalReply): void => {
    if (responseStarted || finished) {
      resetDownstream();
      return;
    }
    abortUpstream();
    replying = true;
    log?.routerReply(reply.details);
    const headers = localReplyHeaders(reply);
    const hasBody = reply.body.length > 0;
    chain.responseHeaders(headers, !hasBody);
    if (hasBody) chain.responseBody(reply.body, true);
  };

  /**
   * Envoy's `sendDirectLocalReply` for a response head that may not reach the codec: a 502 with
   * the problem as text body, straight to the client, past the filters (which already saw the
   * head they spoiled). The upstream's answer, if any, is dropped.
   */
  const directReply = (problem: string): void => {
    abortUpstream();
    const body = Buffer.from(problem, "latin1");
    const head = withEnvoyResponseHeaders([
      ["content-length", String(body.length)],
      ["content-type", "text/plain"],
    ]);
    context.stats.http("downstream_rq_5xx");
    log?.localReply(`filter_removed_required_response_headers{${problem.replace(/[ \t\n\v\f\r]/g, "_")}}`);
    log?.responseHead(502, head);
    log?.sent(body.length);
    writeResponseHead(res, httpVersion, 502, head, {
      connection: requestComplete ? "keep-alive" : "close",
      endStream: false,
      headRequest: req.method === "HEAD",
    });
    if (req.method === "HEAD") res.end();
    else res.end(body);
    finish();
  };

  const resetDownstream = (): void => {
    abortUpstream();
    context.stats.http("downstream_rq_rx_reset");
    if (httpVersion === 2) (res as Http2ServerResponse).stream.close(2 /* INTERNAL_ERROR */);
    else {
      // Response headers Envoy's codec took went out when it took them; Node holds a head until
      // the first body write, so it goes out now, before the connection closes (only a head
      // Node accepted: flushing after a refused one would invent a bare 200).
      if (responseStarted && !finished && res.headersSent) (res as ServerResponse).flushHeaders();
      req.socket?.destroy();
    }
    finish();
  };

  const startUpstream = (headers: HeaderList, endOfStream: boolean): void => {
    if (replying) return;
    const target = route !== undefined && info.routeCacheCleared !== true ? route : context.routes.route(headers);
    if (target === undefined) return routerReply(NO_ROUTE);
    if (target.directResponse !== undefined) return routerReply(directResponse(target));
    const cluster = context.upstreams.cluster(target.cluster);
    if (cluster === undefined) return routerReply(UNKNOWN_CLUSTER);
    const outgoing = upstreamRequestHeaders(headers, target, context.suppressEnvoyHeaders === true);
    // Envoy's upstream codec refuses what a filter broke, before anything reaches the wire.
    const problem = requestHeadersProblem(outgoing);
    if (problem !== undefined) {
      context.logger.log("router", "debug", `upstream request headers refused: ${problem}`);
      return routerReply(codecRejectionReply(problem));
    }
    let request: UpstreamRequest;
    try {
      request = context.upstreams.open(cluster, outgoing, !endOfStream, httpVersion);
    } catch (error) {
      // A head node:http refuses that the check above let through: still this stream's end only.
      context.logger.log("router", "error", `upstream request headers refused: ${(error as Error).message}`);
      return routerReply(codecRejectionReply((error as Error).message));
    }
    upstreamRequest = request;
    const upstreamStart = Date.now();
    upstreamCluster = cluster.name;
    log?.routed(outgoing, cluster.name, `${cluster.url.hostname}:${cluster.url.port === "" ? 80 : cluster.url.port}`);
    const clusterStats = context.upstreams.stats;
    const internal = headerValue(outgoing, "x-envoy-internal") === "true";
    if (target.timeoutMs > 0) {
      upstreamTimer = setLongTimeout(target.timeoutMs, () => {
        clusterStats.timeout(cluster.name);
        clusterStats.responseCode(cluster.name, UPSTREAM_TIMEOUT.status, internal);
        routerReply(UPSTREAM_TIMEOUT);
      });
    }
    const resetOf = resetClassifier(request);
    request.on("response", (response: UpstreamResponse) => {
      clusterStats.responseCode(cluster.name, response.statusCode ?? 502, internal);
      relayUpstreamResponse(target, response, Date.now() - upstreamStart);
    });
    request.on("droppedTrailers", (names: string[]) => context.logger.log("router", "warning", `request trailers (${names.join(", ")}) not sent: the dev proxy cannot send request trailers to the HTTP/2 cluster ${cluster.name}`));
    request.on("error", (error: Error) => {
      if (upstreamRequest !== request) return;
      if (isUnresolvedHost(error)) {
        context.logger.log("router", "debug", `upstream ${cluster.name} failed: ${error.message}`);
        // No host to connect to: Envoy's router charges its 503 without a connection attempt
        // (envoy source/common/router/router.cc `sendNoHealthyUpstreamResponse`).
        context.stats.increment(`cluster.${cluster.name}.upstream_cx_none_healthy`);
        clusterStats.responseCode(cluster.name, NO_HEALTHY_UPSTREAM.status, internal);
        return routerReply(NO_HEALTHY_UPSTREAM);
      }
      const reset = resetOf(error);
      const reply = upstreamResetReply(reset);
      context.logger.log("router", "debug", `upstream ${cluster.name} reset: ${reset.reason} (${error.message})`);
      // A stream on an HTTP/2 session counts only its request's stats: the session counts its connection's once (H2SessionPool).
      clusterStats.upstreamReset(cluster.name, reset, request instanceof H2UpstreamRequest);
      clusterStats.responseCode(cluster.name, reply.status, internal);
      log?.flag(reset.responseFlag);
      routerReply(reply);
    });
    if (endOfStream) request.end();
    else request.flushHeaders();
  };

  const relayUpstreamResponse = (target: RouteConfig, response: UpstreamResponse, serviceTimeMs: number): void => {
    upstreamResponse = response;
    upstreamResponded = true;
    log?.upstreamResponded();
    const status = response.statusCode ?? 502;
    // The router's own header on every upstream response unless suppress_envoy_headers (envoy
    // source/common/router/router.cc `onUpstreamHeaders`): the upstream's time to headers; then the
    // route's response headers, before the filters see them (`modify_headers_` there).
    const upstreamHeaders = responseHeadersOf(response);
    if (context.suppressEnvoyHeaders !== true) upstreamHeaders.push(["x-envoy-upstream-service-time", String(serviceTimeMs)]);
    const headers = applyHeaderMutations(upstreamHeaders, target.responseHeaderMutations);
    const noBody = response.endedWithHeaders === true || lengthOf(headers) === 0 || status === 204 || status === 304 || req.method === "HEAD";
    if (noBody) upstreamComplete = true;
    chain.responseHeaders(headers, noBody);
    if (noBody) {
      upstreamTimer?.cancel();
      response.resume();
      return;
    }
    // A body of known length ends with its last chunk; otherwise with an empty one at `end`.
    let remaining = lengthOf(headers);
    response.on("data", (chunk: Buffer) => {
      if (remaining !== undefined) remaining -= chunk.length;
      if (remaining === 0) upstreamComplete = true;
      chain.responseBody(chunk, remaining === 0);
    });
    response.on("end", () => {
      upstreamTimer?.cancel();
      if (remaining === 0) return;
      upstreamComplete = true;
      const trailers = rawPairs(response.rawTrailers);
      if (trailers.length > 0) chain.responseTrailers(trailers);
      else chain.responseBody(Buffer.alloc(0), true);
    });
    // Only a failure of the upstream the stream still reads: one the router itself abandoned
    // (finished, timed out, past the buffer limit) reports its own reset afterwards.
    response.on("error", () => {
      if (upstreamRequest !== undefined && !finished) resetDownstream();
    });
  };

  const ends: HttpFilterSink = {
    requestHeaders: (headers, endOfStream) => startUpstream(headers, endOfStream),
    requestBody: (chunk, endOfStream) => {
      if (upstreamRequest === undefined) return;
      if (chunk.length > 0) upstreamRequest.write(chunk);
      if (endOfStream) upstreamRequest.end();
    },
    requestTrailers: (trailers) => {
      if (upstreamRequest === undefined) return;
      if (sendableTrailers(trailers, "request", context)) upstreamRequest.addTrailers(toTrailerObject(trailers));
      upstreamRequest.end();
    },
    responseHeaders: (headers, endOfStream) => {
      if (responseStarted || finished) return;
      responseStarted = true;
      // A response that is not the upstream's (a filter's local reply) makes the upstream call moot.
      if (!upstreamResponded) {
        replying = true;
        abortUpstream();
      }
      const status = parseResponseStatus(headerValue(headers, ":status"));
      const unsendable = responseStatusProblem(status, httpVersion);
      if (unsendable !== undefined || status === undefined) {
        context.logger.log("http", "error", `response head refused: ${unsendable}`);
        return directReply(unsendable ?? "missing required header: :status");
      }
      // Envoy's HCM adds `date` and overwrites `server` after the encoder filters ran.
      const head = withEnvoyResponseHeaders(headers);
      // A response that starts before the request ended: Envoy does not wait for the rest of the
      // request on a connection that cannot multiplex; it says `connection: close` and closes
      // once the response is out (conn_manager_impl.cc `encodeHeaders`, remote not complete).
      if (!requestComplete) context.stats.http("downstream_rq_response_before_rq_complete");
      log?.responseHead(status, head);
      context.stats.http(`downstream_rq_${Math.floor(status / 100)}xx`);
      try {
        writeResponseHead(res, httpVersion, status, head, {
          connection: requestComplete ? "keep-alive" : "close",
          endStream: endOfStream,
          headRequest: req.method === "HEAD",
        });
      } catch (error) {
        context.logger.log("http", "error", `invalid response headers: ${(error as Error).message}`);
        return resetDownstream();
      }
      if (endOfStream) {
        res.end();
        finish();
      }
    },
    responseBody: (chunk, endOfStream) => {
      if (!responseStarted || finished) return;
      log?.sent(chunk.length);
      if (chunk.length > 0) (res as ServerResponse).write(chunk);
      if (endOfStream) {
        res.end();
        finish();
      }
    },
    responseTrailers: (trailers) => {
      if (!responseStarted || finished) return;
      if (sendableTrailers(trailers, "response", context)) res.addTrailers(toTrailerObject(trailers));
      res.end();
      finish();
    },
    localReply: (reply) => {
      // Only reached with an empty chain: nothing left to encode through.
      ends.responseHeaders(localReplyHeaders(reply), reply.body.length === 0);
      if (reply.body.length > 0) ends.responseBody(reply.body, true);
    },
    reset: () => resetDownstream(),
    // A filter that streams holds more than the buffer limit: stop reading that side until it
    // passed it on, as Envoy's watermark callbacks read-disable the downstream stream or the
    // upstream request (envoy source/common/http/filter_manager.cc, source/common/router/router.cc).
    flowControl: (side, paused) => {
      if (finished) return;
      if (side === "request") {
        if (paused) req.pause();
        else req.resume();
        context.stats.http(paused ? "downstream_flow_control_paused_reading_total" : "downstream_flow_control_resumed_reading_total");
      } else if (upstreamResponse !== undefined) {
        if (paused) upstreamResponse.pause();
        else upstreamResponse.resume();
        context.stats.increment(`cluster.${upstreamCluster}.${paused ? "upstream_flow_control_paused_reading_total" : "upstream_flow_control_resumed_reading_total"}`);
      }
    },
    noteLocalReply: (reply) => log?.localReply(reply.details),
  };

  const chain = buildFilterChain(
    context.filters,
    wrapLocalReplyAbort(ends, abortUpstream, (reply) => {
      replying = true;
      log?.localReply(reply.details);
    }),
    info,
  );

  // The downstream went away before the response completed.
  res.on("close", () => {
    if (!finished) {
      log?.flag("DC");
      abortUpstream();
      finish();
    }
  });

  const requestLength = lengthOf(requestHeaders);
  const endAfterHeaders =
    httpVersion === 2
      ? (req as Http2ServerRequest).stream.endAfterHeaders
      : requestLength === 0 || (requestLength === undefined && req.headers["transfer-encoding"] === undefined);
  requestComplete = endAfterHeaders;
  if (httpVersion === 2) {
    // The response ended before the request: Envoy resets the stream with NO_ERROR once the
    // response is out (conn_manager_impl.cc `doEndStream`; http2/codec_impl.cc `reasonToReset`).
    const stream = (res as Http2ServerResponse).stream;
    stream.on("finish", () => {
      if (!requestComplete) stream.close(http2Constants.NGHTTP2_NO_ERROR);
    });
  }
  chain.requestHeaders(requestHeaders, endAfterHeaders);
  if (endAfterHeaders) {
    req.resume();
    return;
  }
  let remaining = requestLength;
  req.on("data", (chunk: Buffer) => {
    if (remaining !== undefined) remaining -= chunk.length;
    log?.received(chunk.length);
    if (remaining === 0) requestComplete = true;
    chain.requestBody(chunk, remaining === 0);
  });
  req.on("end", () => {
    requestComplete = true;
    if (remaining === 0) return;
    const trailers = rawPairs(req.rawTrailers);
    if (trailers.length > 0) chain.requestTrailers(trailers);
    else chain.requestBody(Buffer.alloc(0), true);
  });
}

/**
 * False (and an error logged) when a filter left a trailer no codec may send. The message then
 * ends without its trailer block: Envoy's HTTP/1 codecs send trailers only with `enable_trailers`
 * (off by default; `StreamEncoderImpl::encodeTrailersBase`, source/common/http/http1/codec_impl.cc),
 * and after the body the stream can no longer be answered otherwise.
 */
function sendableTrailers(trailers: HeaderList, side: "request" | "response", context: ExchangeContext): boolean {
  const problem = firstInvalidEntry(trailers);
  if (problem === undefined) return true;
  context.logger.log("http", "error", `${side} trailers dropped: ${problem}`);
  return false;
}

/** Intercepts a filter's local reply so the upstream request (if any) is abandoned first. */
function wrapLocalReplyAbort(ends: HttpFilterSink, abortUpstream: () => void, markReplying: (reply: LocalReply) => void): HttpFilterSink {
  return {
    ...ends,
    localReply: (reply) => {
      markReplying(reply);
      abortUpstream();
      ends.localReply(reply);
    },
  };
}

/** `https` on a TLS listener (Envoy's HTTP/1 codec and `x-forwarded-proto`), `http` otherwise. */
function schemeOf(req: DownstreamRequest): string {
  // The connection itself: an h2 request's `socket` is Node's wrapper around the watched connection.
  return (downstreamSocket(req) as { encrypted?: boolean } | undefined)?.encrypted === true ? "https" : "http";
}

/**
 * The request headers as Envoy's codecs hand them to the filters. HTTP/1.1: `:authority`,
 * `:path`, `:method`, `:scheme` then the headers as received without `host`; h2c: the
 * pseudo-headers as received, then the rest. Hop-by-hop headers are dropped except `te: trailers`.
 * In both cases the HCM then appends
 * `x-forwarded-proto` and `x-request-id` when absent.
 */
export function downstreamRequestHeaders(req: DownstreamRequest, httpVersion: 1 | 2): HeaderList {
  const raw = req.rawHeaders;
  let headers: HeaderList;
  if (httpVersion === 2) {
    const pseudo: HeaderList = [];
    const rest: HeaderList = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (name.startsWith(":")) pseudo.push([name, raw[i + 1]]);
      else if (!isHopByHop(name)) rest.push([name, raw[i + 1]]);
      else if (name === "te" && asksForTrailers(raw[i + 1])) rest.push(["te", "trailers"]);
    }
    headers = [...pseudo, ...rest];
  } else {
    headers = [
      [":authority", req.headers.host ?? ""],
      [":path", req.url ?? "/"],
      [":method", req.method ?? "GET"],
      [":scheme", schemeOf(req)],
    ];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (name !== "host" && !isHopByHop(name)) headers.push([name, raw[i + 1]]);
      else if (name === "te" && asksForTrailers(raw[i + 1])) headers.push(["te", "trailers"]);
    }
  }
  if (headerValue(headers, "x-forwarded-proto") === undefined) headers.push(["x-forwarded-proto", schemeOf(req)]);
  if (headerValue(headers, "x-request-id") === undefined) headers.push(["x-request-id", randomUUID()]);
  return headers;
}

/**
 * The HCM's host normalization, before the filters and the route see the request (envoy
 * source/common/http/conn_manager_utility.cc `maybeNormalizeHost`): the port of `:authority` is
 * removed, any port (`any`) or only the listener's own (`matching`).
 */
function withHostPortStripped(headers: HeaderList, mode: "any" | "matching", listenerPort: number): HeaderList {
  const authority = headerValue(headers, ":authority");
  if (authority === undefined) return headers;
  const match = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(authority);
  if (match === null || (mode === "matching" && Number(match[2]) !== listenerPort)) return headers;
  return withHeader(headers, ":authority", match[1]);
}

/**
 * Why a response with `status` (undefined: none that parses) cannot go to the client, or
 * undefined when it can. A status that does not parse is Envoy's `checkRequiredResponseHeaders`
 * failure (envoy source/common/http/header_utility.cc), the same text. Beyond Envoy: Node's
 * codecs refuse numbers Envoy's would write as they are (HTTP/1.1 below 100 or above 999, h2c
 * outside 200..599, as node:http2 sends no 1xx this way), so those get the same 502, naming the status.
 */
export function responseStatusProblem(status: number | undefined, httpVersion: 1 | 2): string | undefined {
  if (status === undefined) return "missing required header: :status";
  const writable = httpVersion === 1 ? status >= 100 && status <= 999 : status >= 200 && status <= 599;
  return writable ? undefined : `unsupported response status for HTTP/${httpVersion === 1 ? "1.1" : "2"}: ${status}`;
}

/**
 * True when a `te` header lists `trailers`: Envoy keeps `te: trailers` (gRPC needs it) and drops
 * every other `te` (`ConnectionManagerUtility::sanitizeTEHeader`, envoy
 * source/common/http/conn_manager_utility.cc).
 */
function asksForTrailers(value: string): boolean {
  return value.split(",").some((token) => token.split(";")[0].trim().toLowerCase() === "trailers");
}

/**
 * What the router changes before sending upstream (envoy source/common/router/router.cc and
 * config_impl.cc `finalizeRequestHeaders`): the route's (virtual host's, route table's)
 * `request_headers_to_add/remove`, `prefix_rewrite` (the original path kept in
 * `x-envoy-original-path`), `host_rewrite_literal`, and `x-envoy-expected-rq-timeout-ms` (neither
 * `x-envoy-*` header with the router's `suppress_envoy_headers`).
 */
function upstreamRequestHeaders(headers: HeaderList, route: RouteConfig, suppressEnvoyHeaders: boolean): HeaderList {
  let out = applyHeaderMutations(headers, route.requestHeaderMutations);
  const path = headerValue(headers, ":path");
  if (route.prefixRewrite !== undefined && path !== undefined) {
    out = withHeader(out, ":path", rewrittenPath(route, path));
    if (!suppressEnvoyHeaders) out = withHeader(out, "x-envoy-original-path", path);
  }
  if (route.hostRewrite !== undefined) out = withHeader(out, ":authority", route.hostRewrite);
  if (suppressEnvoyHeaders || route.timeoutMs === 0) return out;
  return withHeader(out, "x-envoy-expected-rq-timeout-ms", String(route.timeoutMs));
}

/**
 * How to name `request`'s failure as Envoy's reset: from whether its own connection came up
 * (HTTP/1.1), or from its HTTP/2 session as H2SessionPool recorded it.
 */
function resetClassifier(request: UpstreamRequest): (error: NodeJS.ErrnoException) => UpstreamReset {
  if (request instanceof H2UpstreamRequest) return () => request.resetOf();
  const connected = trackConnection(request as ClientRequest);
  return (error) => classifyUpstreamError(error, connected());
}

/** A route's `direct_response`, answered by the router with the route's response headers (Envoy's details `direct_response`). */
function directResponse(route: RouteConfig): LocalReply {
  const { status, body } = route.directResponse!;
  return { status, headers: applyHeaderMutations([], route.responseHeaderMutations), body, details: "direct_response" };
}

function lengthOf(headers: HeaderList): number | undefined {
  const text = headerValue(headers, "content-length");
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

function rawPairs(raw: string[]): HeaderList {
  const pairs: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i].toLowerCase(), raw[i + 1]]);
  return pairs;
}
