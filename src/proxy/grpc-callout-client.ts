import { constants, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import type { GrpcCallout } from "../host/callouts";
import { HeaderMap } from "../host/header-map";
import { setLongTimeout, type LongTimeout } from "../host/long-timeout";
import type { ClusterConfig } from "./config/dev-proxy-config";
import { ClusterStats } from "./cluster-stats";
import { H2SessionPool } from "./h2-session-pool";
import { firstInvalidEntry, latin1List } from "./header-validation";
import { ProxyStats } from "./proxy-stats";
import { upstreamResetBody, upstreamResetReply } from "./upstream-reset";

/** gRPC status codes the client produces itself. */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const INTERNAL = 13;

/**
 * Unary gRPC calls (`proxy_grpc_call`) to a cluster over real HTTP/2 (h2c): `POST
 * /<service>/<method>`, `content-type: application/grpc`, `te: trailers`, the initial metadata as
 * headers, `grpc-timeout` when the call has one, and the message in gRPC's length-prefixed
 * framing. The answer: status 0 with a message → `receive(message)`; anything else →
 * `close(status, grpc-message)`, including trailers-only responses, a non-200 HTTP status
 * (UNAVAILABLE), an unparsable body (INTERNAL), a failed connection (UNAVAILABLE) and the
 * call's timeout (DEADLINE_EXCEEDED).
 */
export class GrpcCalloutClient {
  private readonly sessions: H2SessionPool;

  /** `stats` gets each call's cluster stats, as Envoy's async client counts them (connections through the session pool). */
  constructor(private readonly stats: ClusterStats = new ClusterStats(new ProxyStats())) {
    this.sessions = new H2SessionPool(stats);
  }

  private readonly inFlight = new Map<GrpcCallout, () => void>();
  private readonly streams = new Map<GrpcCallout, ClientHttp2Stream>();

  call(callout: GrpcCallout, cluster: ClusterConfig): void {
    if (refuseMetadata(callout)) return;
    let settled = false;
    let timer: LongTimeout | undefined;
    const settle = (deliver: () => void): void => {
      if (settled) return;
      settled = true;
      timer?.cancel();
      this.inFlight.delete(callout);
      if (!callout.settled && !callout.cancelled) deliver();
    };
    const stream = this.open(callout, cluster, true);
    if (stream === undefined) return;
    this.inFlight.set(callout, () => {
      settled = true;
      timer?.cancel();
      this.inFlight.delete(callout);
      stream.close(constants.NGHTTP2_CANCEL);
    });
    if (callout.timeoutMs > 0) {
      timer = setLongTimeout(callout.timeoutMs, () => {
        stream.close(constants.NGHTTP2_CANCEL);
        settle(() => callout.close(DEADLINE_EXCEEDED, "upstream request timeout"));
      });
    }

    let httpStatus = 0;
    let headerStatus: string | undefined;
    let headerMessage: string | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (response) => {
      httpStatus = Number(response[constants.HTTP2_HEADER_STATUS] ?? 0);
      headerStatus = response["grpc-status"] as string | undefined;
      headerMessage = response["grpc-message"] as string | undefined;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("trailers", (trailers) => {
      headerStatus = (trailers["grpc-status"] as string | undefined) ?? headerStatus;
      headerMessage = (trailers["grpc-message"] as string | undefined) ?? headerMessage;
    });
    stream.on("error", (error) => settle(() => callout.close(UNAVAILABLE, this.resetMessage(cluster, stream, error))));
    stream.on("close", () => {
      if (httpStatus !== 200) {
        return settle(() => callout.close(UNAVAILABLE, httpStatus === 0 ? this.resetMessage(cluster, stream) : `HTTP status ${httpStatus}`));
      }
      const status = headerStatus === undefined ? INTERNAL : Number(headerStatus);
      if (status !== 0) return settle(() => callout.close(status, decodeMessage(headerMessage)));
      const message = firstMessage(Buffer.concat(chunks));
      if (message === null) return settle(() => callout.close(INTERNAL, "malformed gRPC response body"));
      settle(() => callout.receive(message));
    });
    stream.end(frame(callout.messages[0] ?? new Uint8Array(0)));
  }

  /**
   * A gRPC stream (`proxy_grpc_stream`) over one HTTP/2 stream: messages the plugin sends later
   * arrive through `send`, its half-close through `halfClose`. Response headers become
   * `receiveInitialMetadata`, each complete length-prefixed message `receive`, trailers
   * `receiveTrailingMetadata`, and the end `close(grpc-status, grpc-message)`; a trailers-only
   * response closes at once, a non-200 HTTP status or a lost connection closes with UNAVAILABLE,
   * a broken or compressed frame with INTERNAL.
   */
  stream(callout: GrpcCallout, cluster: ClusterConfig): void {
    if (refuseMetadata(callout)) return;
    let settled = false;
    const settle = (deliver: () => void): void => {
      if (settled) return;
      settled = true;
      this.inFlight.delete(callout);
      this.streams.delete(callout);
      if (!callout.settled && !callout.cancelled) deliver();
    };
    const stream = this.open(callout, cluster, false);
    if (stream === undefined) return;
    this.streams.set(callout, stream);
    this.inFlight.set(callout, () => {
      settled = true;
      this.inFlight.delete(callout);
      this.streams.delete(callout);
      stream.close(constants.NGHTTP2_CANCEL);
    });
    for (const message of callout.messages) stream.write(frame(message));
    if (callout.localClosed) stream.end();

    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    let pending: Buffer = Buffer.alloc(0);
    let broken = false;
    stream.on("response", (response) => {
      httpStatus = Number(response[constants.HTTP2_HEADER_STATUS] ?? 0);
      grpcStatus = response["grpc-status"] as string | undefined;
      grpcMessage = response["grpc-message"] as string | undefined;
      // A trailers-only answer carries the status in the headers: nothing else follows.
      if (httpStatus === 200 && grpcStatus === undefined) callout.receiveInitialMetadata(metadataOf(response));
    });
    stream.on("data", (chunk: Buffer) => {
      if (broken || settled) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const length = pending.readUInt32BE(1);
        if (pending[0] !== 0) {
          broken = true;
          stream.close(constants.NGHTTP2_CANCEL);
          return settle(() => callout.close(INTERNAL, "malformed gRPC response body"));
        }
        if (pending.length < 5 + length) break;
        callout.receive(new Uint8Array(pending.subarray(5, 5 + length)));
        pending = pending.subarray(5 + length);
      }
    });
    stream.on("trailers", (trailers) => {
      grpcStatus = (trailers["grpc-status"] as string | undefined) ?? grpcStatus;
      grpcMessage = (trailers["grpc-message"] as string | undefined) ?? grpcMessage;
      if (!settled) callout.receiveTrailingMetadata(metadataOf(trailers));
    });
    stream.on("error", (error) => settle(() => callout.close(UNAVAILABLE, this.resetMessage(cluster, stream, error))));
    stream.on("close", () => {
      if (httpStatus !== 200) {
        return settle(() => callout.close(UNAVAILABLE, httpStatus === 0 ? this.resetMessage(cluster, stream) : `HTTP status ${httpStatus}`));
      }
      if (pending.length > 0) return settle(() => callout.close(INTERNAL, "malformed gRPC response body"));
      const status = grpcStatus === undefined ? INTERNAL : Number(grpcStatus);
      settle(() => callout.close(status, decodeMessage(grpcMessage)));
    });
  }

  /** One more message on a stream opened by `stream`; `endStream` half-closes. Ignored once the stream is over. */
  send(callout: GrpcCallout, message: Uint8Array, endStream: boolean): void {
    const stream = this.streams.get(callout);
    if (stream === undefined || stream.writableEnded) return;
    if (endStream) stream.end(frame(message));
    else stream.write(frame(message));
  }

  /** The plugin half-closed a stream (END_STREAM without a message). */
  halfClose(callout: GrpcCallout): void {
    const stream = this.streams.get(callout);
    if (stream !== undefined && !stream.writableEnded) stream.end();
  }

  cancel(callout: GrpcCallout): void {
    this.inFlight.get(callout)?.();
  }

  close(): void {
    for (const abort of [...this.inFlight.values()]) abort();
    this.sessions.close();
  }

  /**
   * The call's HTTP/2 stream, or undefined (the call closed with UNAVAILABLE, later) when
   * node:http2 refuses its head: one call fails, never the process.
   */
  private open(callout: GrpcCallout, cluster: ClusterConfig, endStream: boolean): ClientHttp2Stream | undefined {
    try {
      const stream = this.sessions.request(cluster, requestHeaders(callout, cluster), endStream ? {} : { endStream: false });
      this.stats.requestSent(cluster.name);
      stream.once("response", (headers) => this.stats.responseCode(cluster.name, Number(headers[constants.HTTP2_HEADER_STATUS] ?? 0), true));
      return stream;
    } catch (error) {
      closeLater(callout, UNAVAILABLE, (error as Error).message);
      return undefined;
    }
  }

  /**
   * The message a call that ended without an answer closes with: the text of the local reply
   * Envoy's router makes for the reset (which the async gRPC client gets as UNAVAILABLE, the body
   * as grpc-message), classified from the stream's session as the pool recorded it (whether it
   * connected, its first error). Charges the reset's request stats and the router's reply code,
   * as for an HTTP callout (the session counts its connection's stats once).
   */
  private resetMessage(cluster: ClusterConfig, stream: ClientHttp2Stream, error?: NodeJS.ErrnoException): string {
    const reset = this.sessions.resetOf(stream, error);
    this.stats.upstreamReset(cluster.name, reset, true);
    this.stats.responseCode(cluster.name, upstreamResetReply(reset).status, true);
    return upstreamResetBody(reset);
  }
}

/** gRPC length-prefixed framing: flag byte 0 (uncompressed), u32 big-endian length, message. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The first message of a framed body, or null when the framing is broken or compressed. */
export function firstMessage(body: Buffer): Uint8Array | null {
  if (body.length < 5 || body[0] !== 0) return null;
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) return null;
  return new Uint8Array(body.subarray(5, 5 + length));
}

/** `grpc-message` is percent-encoded on the wire. */
function decodeMessage(text: string | undefined): string {
  if (text === undefined) return "";
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * True (and the call closed later) when the plugin's initial metadata has an entry Envoy's codec
 * refuses: Envoy answers with the upstream codec filter's local reply (503, the message as body,
 * source/common/router/upstream_codec_filter.cc), which a gRPC client sees as UNAVAILABLE with
 * that message (`proxy_on_grpc_close(token, 14)`).
 */
function refuseMetadata(callout: GrpcCallout): boolean {
  const problem = firstInvalidEntry(latin1List(callout.initialMetadata));
  if (problem === undefined) return false;
  closeLater(callout, UNAVAILABLE, problem);
  return true;
}

/** Closes `callout` after the hostcall that made it returned, unless it ended meanwhile. */
function closeLater(callout: GrpcCallout, status: number, message: string): void {
  setImmediate(() => {
    if (!callout.settled && !callout.cancelled) callout.close(status, message);
  });
}

/** The request headers of a call or stream: Envoy's async gRPC client sends these. */
function requestHeaders(callout: GrpcCallout, cluster: ClusterConfig): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {
    [constants.HTTP2_HEADER_METHOD]: "POST",
    [constants.HTTP2_HEADER_PATH]: `/${callout.serviceName}/${callout.methodName}`,
    [constants.HTTP2_HEADER_AUTHORITY]: cluster.name,
    [constants.HTTP2_HEADER_SCHEME]: "http",
    "content-type": "application/grpc",
    te: "trailers",
  };
  for (const [name, value] of callout.initialMetadata.toArray()) {
    if (name.startsWith(":")) continue;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...[previous].flat(), value];
  }
  if (callout.timeoutMs > 0) headers["grpc-timeout"] = `${callout.timeoutMs}m`;
  return headers;
}

/** Response headers or trailers as metadata: pseudo-headers left out, repeated names kept. */
function metadataOf(headers: IncomingHttpHeaders): HeaderMap {
  const metadata = new HeaderMap();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) metadata.add(name, String(one));
  }
  return metadata;
}
