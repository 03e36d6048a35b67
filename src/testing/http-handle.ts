/**
 * A test's handle on one HTTP stream: feed request/response frames, read what the plugin
 * returned and what reached each side.
 */
import { HeaderMap, type DataStatus, type HeadersInit, type HeadersStatus, type HttpStream, type HttpStreamSink, type TrailersStatus } from "../host";
import { bytesToString, concatBytes, EMPTY_BYTES, toBytes, type BytesLike } from "../host/bytes";

/** What reached one side of the stream (the upstream, or the client). */
export class SideRecord {
  headers: [string, string][] | null = null;
  bodyBytes: Uint8Array = EMPTY_BYTES;
  trailers: [string, string][] | null = null;
  /** True once the side saw end of stream (with headers, data or trailers). */
  ended = false;

  get body(): string {
    return bytesToString(this.bodyBytes);
  }

  /** The first value of header `name` (lower-case), or undefined. */
  header(name: string): string | undefined {
    return this.headers?.find(([k]) => k === name.toLowerCase())?.[1];
  }

  /** `:status` as a number, or undefined. */
  get status(): number | undefined {
    const status = this.header(":status");
    return status === undefined ? undefined : Number(status);
  }
}

/**
 * `body` with `data` after it, never `data` itself: a chunk that passed through the driver is the
 * caller's own array, which the caller may reuse.
 */
function appended(body: Uint8Array, data: Uint8Array): Uint8Array {
  return body.length === 0 ? data.slice() : concatBytes(body, data);
}

/** A flow-control event of the stream: reading `side` paused (`above`) or resumed. */
export interface WatermarkEvent {
  side: "request" | "response";
  above: boolean;
}

/** Records what the driver lets through into the two sides (one object per stream, no closures). */
class RecordingSink implements HttpStreamSink {
  constructor(
    private readonly up: SideRecord,
    private readonly down: SideRecord,
    private readonly watermarks: WatermarkEvent[],
  ) {}

  watermark(side: "request" | "response", above: boolean): void {
    this.watermarks.push({ side, above });
  }

  upstreamHeaders(headers: HeaderMap, endOfStream: boolean): void {
    this.up.headers = headers.toArray();
    this.up.ended = endOfStream;
  }

  upstreamData(data: Uint8Array, endOfStream: boolean): void {
    this.up.bodyBytes = appended(this.up.bodyBytes, data);
    this.up.ended = endOfStream;
  }

  upstreamTrailers(trailers: HeaderMap): void {
    this.up.trailers = trailers.toArray();
    this.up.ended = true;
  }

  downstreamHeaders(headers: HeaderMap, endOfStream: boolean): void {
    this.down.headers = headers.toArray();
    this.down.ended = endOfStream;
  }

  downstreamData(data: Uint8Array, endOfStream: boolean): void {
    this.down.bodyBytes = appended(this.down.bodyBytes, data);
    this.down.ended = endOfStream;
  }

  downstreamTrailers(trailers: HeaderMap): void {
    this.down.trailers = trailers.toArray();
    this.down.ended = true;
  }

  reset(): void {}
}

export interface FrameOptions {
  readonly endOfStream?: boolean;
}

export class HttpStreamHandle {
  /** What was forwarded to the upstream. */
  readonly upstream = new SideRecord();
  /** What the client received. */
  readonly downstream = new SideRecord();
  readonly stream: HttpStream;
  /**
   * Flow control, as Envoy's watermark callbacks: a plugin that streams (`...AndWatermark`) and
   * holds more than the buffer limit pauses reading that side (`above: true`) until what it holds
   * is passed on (`above: false`).
   */
  readonly watermarks: WatermarkEvent[] = [];

  constructor(create: (sink: HttpStreamSink) => HttpStream, private readonly afterEach: () => void) {
    this.stream = create(new RecordingSink(this.upstream, this.downstream, this.watermarks));
  }

  private after<T>(value: T): T {
    this.afterEach();
    return value;
  }

  /** Delivers request headers (default end_of_stream false). Returns the filter's status. */
  requestHeaders(headers: HeadersInit, options: FrameOptions = {}): HeadersStatus {
    return this.after(this.stream.requestHeaders(HeaderMap.from(headers), options.endOfStream ?? false));
  }

  /** Delivers a request body chunk (default end_of_stream false). */
  requestBody(chunk: BytesLike, options: FrameOptions = {}): DataStatus | HeadersStatus {
    return this.after(this.stream.requestBody(toBytes(chunk), options.endOfStream ?? false));
  }

  requestTrailers(trailers: HeadersInit): TrailersStatus | HeadersStatus {
    return this.after(this.stream.requestTrailers(HeaderMap.from(trailers)));
  }

  responseHeaders(headers: HeadersInit, options: FrameOptions = {}): HeadersStatus {
    return this.after(this.stream.responseHeaders(HeaderMap.from(headers), options.endOfStream ?? false));
  }

  responseBody(chunk: BytesLike, options: FrameOptions = {}): DataStatus | HeadersStatus {
    return this.after(this.stream.responseBody(toBytes(chunk), options.endOfStream ?? false));
  }

  responseTrailers(trailers: HeadersInit): TrailersStatus | HeadersStatus {
    return this.after(this.stream.responseTrailers(HeaderMap.from(trailers)));
  }

  /** Ends the stream: `proxy_on_log`, `proxy_on_done`, `proxy_on_delete`. */
  complete(): void {
    this.stream.complete();
    this.afterEach();
  }

  /** The stream context id (0 before the first request headers). */
  get contextId(): number {
    return this.stream.context?.id ?? 0;
  }

  /** Request headers as the plugin has left them so far (held or forwarded). */
  get requestHeadersNow(): [string, string][] | null {
    return this.stream.currentHeaders("request")?.toArray() ?? null;
  }

  get responseHeadersNow(): [string, string][] | null {
    return this.stream.currentHeaders("response")?.toArray() ?? null;
  }

  /** Request body bytes the host holds right now (buffered or paused), decoded as UTF-8. */
  get heldRequestBody(): string {
    return bytesToString(this.stream.heldBody("request"));
  }

  get heldResponseBody(): string {
    return bytesToString(this.stream.heldBody("response"));
  }

  /** The local response the plugin sent (or the fail-closed 503), or null. */
  get localResponse(): { status: number; details: string; body: string; headers: [string, string][]; grpcStatus: number | undefined } | null {
    const reply = this.stream.localReply;
    if (reply === null) return null;
    return { status: reply.status, details: reply.details, body: bytesToString(reply.body), headers: reply.headers.toArray(), grpcStatus: reply.grpcStatus };
  }

  /** The direction whose body the plugin buffered past the buffer limit (`bufferLimitBytes`), or null. */
  get bufferOverflow(): "request" | "response" | null {
    return this.stream.bufferOverflow;
  }

  /** Details of a stream reset (`wasm_close_stream`, …), or null. */
  get resetDetails(): string | null {
    return this.stream.resetDetails;
  }
}
