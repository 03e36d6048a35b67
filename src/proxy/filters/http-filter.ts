import type { HeaderList } from "../header-list";

/**
 * The seam between the dev proxy's HTTP plumbing and whatever filters a stream: the same event
 * vocabulary as Envoy's stream filters. The proxy pushes downstream events into the first filter;
 * a filter pushes what it lets through (possibly changed, possibly later) into its sink, which
 * is the next filter, or the upstream/downstream connection at either end.
 *
 * Rules a filter follows: it emits request events in order (headers, body chunks, trailers) and
 * response events in order; `endOfStream` is true on exactly one request event and one response
 * event; after `localReply` or `reset` it emits nothing else.
 */
export interface HttpFilterSink {
  requestHeaders(headers: HeaderList, endOfStream: boolean): void;
  requestBody(chunk: Buffer, endOfStream: boolean): void;
  requestTrailers(trailers: HeaderList): void;
  responseHeaders(headers: HeaderList, endOfStream: boolean): void;
  responseBody(chunk: Buffer, endOfStream: boolean): void;
  responseTrailers(trailers: HeaderList): void;
  /** Answer the downstream instead of the upstream; the reply still passes earlier filters. */
  localReply(reply: LocalReply): void;
  /** Abort the stream in both directions (Envoy: stream reset). */
  reset(reason: string): void;
  /** Told when a filter's local reply is about to be encoded (the access log keeps its details). */
  noteLocalReply?(reply: LocalReply): void;
  /**
   * Flow control: a filter holds more of `side` than the buffer limit (`paused` true) or has
   * passed it on (false). The connection stops or resumes reading that side (Envoy's watermark
   * callbacks). Goes straight to the connection, whichever filter asks.
   */
  flowControl?(side: "request" | "response", paused: boolean): void;
}

/** One filter instance on one HTTP stream. */
export interface HttpFilterStream {
  requestHeaders(headers: HeaderList, endOfStream: boolean): void;
  requestBody(chunk: Buffer, endOfStream: boolean): void;
  requestTrailers(trailers: HeaderList): void;
  responseHeaders(headers: HeaderList, endOfStream: boolean): void;
  responseBody(chunk: Buffer, endOfStream: boolean): void;
  responseTrailers(trailers: HeaderList): void;
  /**
   * The stream is over (completed, reset or replied locally): release the per-stream state
   * (a Wasm filter runs on_log, on_done, on_delete here). Called exactly once.
   */
  finish(): void;
}

/** A locally generated response (Envoy `sendLocalReply`). */
export interface LocalReply {
  status: number;
  headers: HeaderList;
  body: Buffer;
  /** Envoy's `response.code_details`, e.g. `wasm_fail_stream`. */
  details: string;
  /** gRPC status to send for gRPC requests; undefined lets the proxy derive it. */
  grpcStatus?: number;
}

/** Facts about the stream a filter may need (for properties, logs and stats). */
export interface HttpStreamInfo {
  /** 1 for HTTP/1.1, 2 for h2c. */
  httpVersion: 1 | 2;
  downstreamRemoteAddress: string;
  downstreamRemotePort: number;
  downstreamLocalAddress: string;
  downstreamLocalPort: number;
  /** Cluster the route picked for this stream. */
  routeClusterName: string;
  /** The route's properties for filters (`xds.route_name`, `xds.route_metadata`, …), shared by its streams. */
  routeProperties?: Record<string, unknown>;
  /**
   * The stream's dynamic metadata (`filter_metadata`, by namespace), when the chain has a filter
   * that writes it (set_metadata); Wasm filters read it as the `metadata` property.
   */
  dynamicMetadata?: Record<string, Record<string, unknown>>;
  /**
   * Set by a filter whose plugin called `clear_route_cache`: the router picks the route again from
   * the request headers it gets (Envoy re-routes only then; source/extensions/common/wasm/context.cc).
   */
  routeCacheCleared?: boolean;
}

/** Makes one filter instance per stream; one per configured filter in the chain. */
export interface HttpFilterFactory {
  /** Plugin (or filter) name, for logs and stats. */
  readonly name: string;
  createStream(sink: HttpFilterSink, info: HttpStreamInfo): HttpFilterStream;
}
