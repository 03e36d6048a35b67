import { EventEmitter } from "node:events";
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import type { ClusterConfig } from "./config/dev-proxy-config";
import type { H2SessionPool } from "./h2-session-pool";
import type { HeaderList } from "./header-list";
import type { UpstreamReset } from "./upstream-reset";

/**
 * The upstream response as the router reads it, from HTTP/1.1 (node's `IncomingMessage`) or
 * HTTP/2 (`H2UpstreamResponse`): status, the head and trailers as raw `[name, value, ...]`
 * arrays, and `data` / `end` / `error` events.
 */
export interface UpstreamResponse extends NodeJS.EventEmitter {
  readonly statusCode?: number;
  readonly rawHeaders: string[];
  readonly rawTrailers: string[];
  /** True when the head ended the stream (an HTTP/2 HEADERS frame with END_STREAM, e.g. a gRPC trailers-only answer). */
  readonly endedWithHeaders?: boolean;
  /** Stops reading the response (flow control: the upstream is read-disabled until `resume`). */
  pause(): unknown;
  resume(): unknown;
}

/** The upstream request as the router drives it, over HTTP/1.1 (`ClientRequest`) or HTTP/2. */
export interface UpstreamRequest extends NodeJS.EventEmitter {
  write(chunk: Buffer): unknown;
  end(): unknown;
  addTrailers(trailers: Record<string, string>): void;
  flushHeaders(): void;
  destroy(): unknown;
}

/**
 * One routed request on a cluster's h2c session, with the events and methods of node's
 * `ClientRequest` that the router uses, so the router does not care which codec the cluster
 * speaks (Envoy picks the upstream codec from the cluster's protocol options, the router is the same).
 * Emits `response` with an `H2UpstreamResponse`, and `error` when the stream fails before the
 * response head (no connection, refused, reset).
 */
export class H2UpstreamRequest extends EventEmitter implements UpstreamRequest {
  private readonly stream: ClientHttp2Stream;
  /** Set once a response or an error was reported (or the router gave up): nothing more is emitted as `error`. */
  private responded = false;

  /** What the stream failed with (undefined: it closed without an error, or has not failed). */
  private failure: NodeJS.ErrnoException | undefined;

  /** @throws what node:http2 throws for a head it refuses (the router answers 503 for it). */
  constructor(
    private readonly pool: H2SessionPool,
    cluster: ClusterConfig,
    headers: HeaderList,
    endStream: boolean,
  ) {
    super();
    // Without `waitForTrailers` the last DATA frame carries END_STREAM, as Envoy sends a body
    // without trailers. With it every body would end in an extra (empty) HEADERS frame that Envoy
    // never sends; node:http2 must know before the first byte, so request trailers cannot be sent
    // to an HTTP/2 cluster (`addTrailers` reports them as `droppedTrailers`).
    this.stream = pool.request(cluster, h2RequestHeaders(headers), { endStream });
    this.stream.on("response", (head, flags) => {
      this.responded = true;
      const response = new H2UpstreamResponse(this.stream, head, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0);
      this.emit("response", response);
    });
    this.stream.on("error", (error) => this.fail(error, error));
    // A reset before any response (RST_STREAM, GOAWAY) is a failure of the request.
    this.stream.on("close", () => this.fail(new Error(`stream closed with code ${this.stream.rstCode}`), undefined));
  }

  private fail(error: Error, failure: NodeJS.ErrnoException | undefined): void {
    if (this.responded) return;
    this.responded = true;
    this.failure = failure;
    this.emit("error", error);
  }

  /**
   * Envoy's reset for this request, once it emitted `error`: from its session's state as the
   * pool recorded it (whether it connected, its first error), see `H2SessionPool.resetOf`.
   */
  resetOf(): UpstreamReset {
    return this.pool.resetOf(this.stream, this.failure);
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  end(): void {
    this.stream.end();
  }

  /** Not sent (see the constructor): emits `droppedTrailers` with their names, for a log line. */
  addTrailers(trailers: Record<string, string>): void {
    if (Object.keys(trailers).length > 0) this.emit("droppedTrailers", Object.keys(trailers));
  }

  flushHeaders(): void {
    // node:http2 sends the HEADERS frame at once; nothing is held back.
  }

  destroy(): void {
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
    this.responded = true;
  }
}

/** The response side of an `H2UpstreamRequest`, shaped like node's `IncomingMessage`. */
export class H2UpstreamResponse extends EventEmitter implements UpstreamResponse {
  readonly statusCode: number;
  readonly rawHeaders: string[];
  rawTrailers: string[] = [];

  constructor(
    private readonly stream: ClientHttp2Stream,
    head: IncomingHttpHeaders,
    readonly endedWithHeaders: boolean,
  ) {
    super();
    this.statusCode = Number(head[":status"] ?? 502);
    this.rawHeaders = rawPairsOf(head);
    stream.on("trailers", (trailers: IncomingHttpHeaders) => (this.rawTrailers = rawPairsOf(trailers)));
    stream.on("data", (chunk: Buffer) => this.emit("data", chunk));
    stream.on("end", () => this.emit("end"));
    stream.on("close", () => {
      if (stream.rstCode !== constants.NGHTTP2_NO_ERROR && !stream.readableEnded) this.emit("error", new Error(`upstream reset the stream (code ${stream.rstCode})`));
    });
  }

  /**
   * Stops reading the stream: node:http2 then stops returning the stream's flow control window,
   * so the upstream stops sending once the window is used up, as Envoy's read-disabled upstream.
   */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }
}

/** An HTTP/2 head object as `[name, value, ...]` without pseudo-headers (repeated names repeat). */
function rawPairsOf(head: IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(head)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) raw.push(name, String(one));
  }
  return raw;
}

/**
 * The request head for node:http2: the pseudo-headers (`:scheme` http, as over h2c), then the
 * rest; repeated names become arrays. `te` may only be `trailers` on HTTP/2 (RFC 9113 §8.2.2).
 */
function h2RequestHeaders(headers: HeaderList): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ":scheme": "http" };
  for (const [name, value] of headers) {
    if (name === "connection" || name === "keep-alive" || name === "transfer-encoding" || name === "upgrade" || name === "proxy-connection") continue;
    const previous = out[name];
    if (previous === undefined || name.startsWith(":")) out[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[name] = [String(previous), value];
  }
  return out;
}
