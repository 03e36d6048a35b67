import { request, type ClientRequest } from "node:http";
import { request as tlsRequest } from "node:https";
import type { CalloutUpstream, Callout, GrpcCallout, HttpCallout } from "../host/callouts";
import { HeaderMap } from "../host/header-map";
import { setLongTimeout, type LongTimeout } from "../host/long-timeout";
import type { ClusterConfig } from "./config/dev-proxy-config";
import { ClusterStats } from "./cluster-stats";
import { GrpcCalloutClient } from "./grpc-callout-client";
import { H2SessionPool } from "./h2-session-pool";
import { H2UpstreamRequest, type UpstreamResponse } from "./h2-upstream-request";
import type { HeaderList } from "./header-list";
import { firstInvalidEntry, latin1List, requestHeadersProblem } from "./header-validation";
import type { ProxyLogger } from "./proxy-logger";
import { ProxyStats } from "./proxy-stats";
import { isUnresolvedHost, NO_HEALTHY_UPSTREAM_BODY } from "./unresolved-host";
import { upstreamTlsOptions } from "./upstream-tls";
import { classifyUpstreamError, trackConnection, upstreamResetBody, upstreamResetReply } from "./upstream-reset";

/**
 * Sends the filters' `proxy_http_call`s to the real cluster URLs over HTTP/1.1 (HTTP/2 for a
 * cluster whose protocol options ask for it; TLS for a cluster with an UpstreamTlsContext), as
 * Envoy's async client does: `:method`, `:path`, `:authority` from the call's headers, body and trailers as
 * given. Like Envoy, a connection failure or a timeout still arrives as a *response* (503 / 504
 * with Envoy's text) rather than as a reset; a reset after the response started is a failure.
 * gRPC calls and streams go over real HTTP/2 (GrpcCalloutClient); a stream's later sends and
 * half-close arrive through `sent` / `closedLocally`.
 */
export class ClusterCalloutUpstream implements CalloutUpstream {
  private readonly inFlight = new Map<Callout, () => void>();
  private readonly grpc: GrpcCalloutClient;
  private readonly h2: H2SessionPool;

  constructor(
    private readonly clusters: ReadonlyMap<string, ClusterConfig>,
    private readonly logger: ProxyLogger,
    /** Cluster stats of the callouts, as Envoy counts its async client's requests. */
    private readonly stats: ClusterStats = new ClusterStats(new ProxyStats()),
  ) {
    this.grpc = new GrpcCalloutClient(stats);
    this.h2 = new H2SessionPool(stats);
  }

  dispatch(callout: Callout): void {
    const cluster = this.clusters.get(callout.cluster);
    if (cluster === undefined) {
      // The host only accepts calls to known cluster names, so this means the config changed.
      setImmediate(() => (callout.kind === "http" ? callout.fail() : callout.close(14, "unknown cluster")));
      return;
    }
    if (callout.kind === "http") this.sendHttp(callout, cluster);
    else if (callout.kind === "grpc-call") this.grpc.call(callout, cluster);
    else this.grpc.stream(callout, cluster);
  }

  sent(callout: GrpcCallout, message: Uint8Array, endStream: boolean): void {
    this.grpc.send(callout, message, endStream);
  }

  closedLocally(callout: GrpcCallout): void {
    this.grpc.halfClose(callout);
  }

  cancelled(callout: Callout): void {
    if (callout.kind === "http") this.inFlight.get(callout)?.();
    else this.grpc.cancel(callout);
  }

  /** Aborts every call still in flight (the proxy is closing). */
  close(): void {
    for (const abort of [...this.inFlight.values()]) abort();
    this.grpc.close();
    this.h2.close();
  }

  /**
   * Puts a sent callout in flight: cancelling it (or closing the proxy) destroys `req`, and its
   * timeout, if it has one, destroys `req` and answers 504 as Envoy's router does. Returns the
   * call's `settle`: it ends both, then runs `deliver` unless the call already has its answer.
   */
  private track(callout: HttpCallout, cluster: ClusterConfig, req: { destroy(): void }): (deliver: () => void) => void {
    let timer: LongTimeout | undefined;
    const settle = (deliver: () => void): void => {
      timer?.cancel();
      this.inFlight.delete(callout);
      if (!callout.settled) deliver();
    };
    this.inFlight.set(callout, () => {
      timer?.cancel();
      this.inFlight.delete(callout);
      req.destroy();
    });
    if (callout.timeoutMs > 0) {
      timer = setLongTimeout(callout.timeoutMs, () => {
        req.destroy();
        this.stats.timeout(cluster.name);
        this.stats.responseCode(cluster.name, 504, true);
        settle(() => callout.respond(envoyReply(504, "upstream request timeout")));
      });
    }
    return settle;
  }

  /**
   * An HTTP callout to a cluster that speaks HTTP/2 (its protocol options), over the cluster's
   * HTTP/2 session (h2c, or TLS with ALPN `h2` for a TLS cluster), as Envoy's async client picks the codec from the cluster. Answers as over
   * HTTP/1.1 (503 / 504 with Envoy's text for failures). Request trailers cannot go out on
   * node:http2 here (see H2UpstreamRequest): dropped with an error line.
   */
  private sendHttp2(callout: HttpCallout, cluster: ClusterConfig, headerList: HeaderList): void {
    if (callout.trailers.size > 0) {
      this.logger.log("wasm", "error", `http callout ${callout.token} to ${cluster.name}: trailers dropped: the dev proxy cannot send request trailers to an HTTP/2 cluster`);
    }
    let req: H2UpstreamRequest;
    try {
      req = new H2UpstreamRequest(this.h2, cluster, headerList, callout.body.length === 0);
    } catch (error) {
      const message = (error as Error).message;
      this.logger.log("wasm", "error", `http callout ${callout.token} to ${cluster.name} refused: ${message}`);
      setImmediate(() => {
        if (!callout.settled) callout.respond(envoyReply(503, message));
      });
      return;
    }
    // Counted as the HTTP/1.1 callouts are (internal, as Envoy's async client marks them); the
    // session counts its connection and a failed connect (H2SessionPool).
    this.stats.requestSent(cluster.name);
    const settle = this.track(callout, cluster, req);
    let responded = false;
    req.on("response", (res: UpstreamResponse) => {
      responded = true;
      this.stats.responseCode(cluster.name, res.statusCode ?? 502, true);
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => settle(() => callout.respond({ headers: headerMapOf(res.statusCode ?? 502, res.rawHeaders), body: Buffer.concat(chunks), trailers: headerMapOf(undefined, res.rawTrailers) })));
      res.on("error", () => settle(() => callout.fail()));
    });
    req.on("error", (error: Error) => {
      this.logger.log("wasm", "debug", `http callout ${callout.token} to ${cluster.name} failed: ${error.message}`);
      if (isUnresolvedHost(error)) {
        if (!responded && this.inFlight.has(callout)) this.stats.responseCode(cluster.name, 503, true);
        return settle(() => callout.respond(envoyReply(503, NO_HEALTHY_UPSTREAM_BODY)));
      }
      // Classified from the session's state as the pool recorded it; the session counts its connection's stats once.
      const reset = req.resetOf();
      const reply = upstreamResetReply(reset);
      if (!responded && this.inFlight.has(callout)) {
        this.stats.upstreamReset(cluster.name, reset, true);
        this.stats.responseCode(cluster.name, reply.status, true);
      }
      settle(() => callout.respond(envoyReply(reply.status, upstreamResetBody(reset))));
    });
    if (callout.body.length > 0) {
      req.write(Buffer.from(callout.body));
      req.end();
    }
  }

  private sendHttp(callout: HttpCallout, cluster: ClusterConfig): void {
    // Header bytes go to the wire as they are (latin1, one char per byte), as Envoy's codec sends them.
    const headerList = latin1List(callout.headers);
    // Envoy checks only the presence of :method, :path and :authority in `proxy_http_call`
    // (source/extensions/common/wasm/context.cc `Context::httpCall`); the upstream codec refuses the
    // rest later, and the call gets that local reply as its response (upstream_codec_filter.cc).
    // That is Envoy's path when the cluster has no idle connection. With one, the refusal happens
    // inside `AsyncClientImpl::send`, which then returns null: `proxy_http_call` returns
    // InternalFailure and no callback follows. The dev proxy always takes the first path, so the
    // filter learns why.
    const problem = requestHeadersProblem(headerList);
    if (problem !== undefined) {
      this.logger.log("wasm", "debug", `http callout ${callout.token} to ${cluster.name} refused: ${problem}`);
      setImmediate(() => {
        if (!callout.settled) callout.respond(envoyReply(503, problem));
      });
      return;
    }
    if (cluster.http2) return this.sendHttp2(callout, cluster, headerList);
    const headers: Record<string, string | string[]> = {};
    let method = "GET";
    let path = "/";
    for (const [name, value] of headerList) {
      if (name === ":method") method = value;
      else if (name === ":path") path = value;
      else if (name === ":authority") headers.host = value;
      else if (name === "content-length" && name in headers) headers[name] = `${String(headers[name])},${value}`;
      else if (!name.startsWith(":")) headers[name] = name in headers ? [...[headers[name]].flat(), value] : value;
    }
    const trailerList = latin1List(callout.trailers);
    const trailerProblem = firstInvalidEntry(trailerList);
    if (trailerProblem !== undefined) {
      // As for a stream's request trailers: Envoy's HTTP/1 codec sends none by default.
      this.logger.log("wasm", "error", `http callout ${callout.token} to ${cluster.name}: trailers dropped: ${trailerProblem}`);
    }
    const hasTrailers = trailerList.length > 0 && trailerProblem === undefined;
    if (hasTrailers) delete headers["content-length"];
    let req: ClientRequest;
    try {
      req = (cluster.tls ? tlsRequest : request)({
        ...(cluster.tls ? { ...upstreamTlsOptions(cluster.tls), agent: false } : {}),
        host: cluster.url.hostname,
        port: cluster.url.port === "" ? 80 : Number(cluster.url.port),
        method,
        path,
        headers,
        setHost: false,
      });
    } catch (error) {
      // A head node:http refuses that the check above let through: still only this call fails.
      const message = (error as Error).message;
      this.logger.log("wasm", "error", `http callout ${callout.token} to ${cluster.name} refused: ${message}`);
      setImmediate(() => {
        if (!callout.settled) callout.respond(envoyReply(503, message));
      });
      return;
    }
    // Envoy's async client marks every callout internal (`x-envoy-internal: true`, envoy
    // source/common/http/async_client_impl.cc), so its codes count under `internal.`.
    this.stats.watch(cluster.name, req);
    this.stats.requestSent(cluster.name);
    const settle = this.track(callout, cluster, req);
    let responded = false;
    req.on("response", (res) => {
      responded = true;
      this.stats.responseCode(cluster.name, res.statusCode ?? 502, true);
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const responseHeaders = headerMapOf(res.statusCode ?? 502, res.rawHeaders);
        const trailers = new HeaderMap();
        for (let i = 0; i + 1 < res.rawTrailers.length; i += 2) trailers.add(res.rawTrailers[i], res.rawTrailers[i + 1]);
        settle(() => callout.respond({ headers: responseHeaders, body: Buffer.concat(chunks), trailers }));
      });
      res.on("error", () => settle(() => callout.fail()));
    });
    const connected = trackConnection(req);
    req.on("error", (error) => {
      this.logger.log("wasm", "debug", `http callout ${callout.token} to ${cluster.name} failed: ${error.message}`);
      if (isUnresolvedHost(error)) {
        // No host at all is not a failed connection (see isUnresolvedHost); the 503 is charged either way.
        if (!responded && this.inFlight.has(callout)) this.stats.responseCode(cluster.name, 503, true);
        return settle(() => callout.respond(envoyReply(503, NO_HEALTHY_UPSTREAM_BODY)));
      }
      // The async client's router answers as it does for a stream (router.cc `onUpstreamReset`).
      const reset = classifyUpstreamError(error, connected());
      const reply = upstreamResetReply(reset);
      if (!responded && this.inFlight.has(callout)) {
        this.stats.upstreamReset(cluster.name, reset);
        this.stats.responseCode(cluster.name, reply.status, true);
      }
      settle(() => callout.respond(envoyReply(reply.status, upstreamResetBody(reset))));
    });
    if (callout.body.length > 0) req.write(callout.body);
    if (hasTrailers) req.addTrailers(Object.fromEntries(trailerList));
    req.end();
  }
}

/**
 * A HeaderMap of `:status` (when given) and raw `[name, value, ...]` pairs, bytes as received.
 */
function headerMapOf(status: number | undefined, raw: string[]): HeaderMap {
  const headers = new HeaderMap();
  if (status !== undefined) headers.add(":status", String(status));
  for (let i = 0; i + 1 < raw.length; i += 2) headers.add(Buffer.from(raw[i], "latin1"), Buffer.from(raw[i + 1], "latin1"));
  return headers;
}

/** A response Envoy's router makes up (status, text body, the headers Envoy adds). */
function envoyReply(status: number, text: string) {
  const headers = new HeaderMap();
  headers.add(":status", String(status));
  headers.add("content-length", String(Buffer.byteLength(text)));
  headers.add("content-type", "text/plain");
  return { headers, body: Buffer.from(text), trailers: new HeaderMap() };
}
