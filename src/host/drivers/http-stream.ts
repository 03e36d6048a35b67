/**
 * Plays one HTTP stream through a plugin's callbacks exactly as Envoy's Wasm HTTP filter does
 * (reference §4.5, §4.8, §4.10, §4.11). Event-driven: the caller feeds what arrives from
 * downstream (request) and upstream (response); the driver tells its sink what to forward
 * upstream, what to send downstream, and when to reset. The test kit and the dev proxy both use
 * this class, so they cannot disagree.
 */
import { BodyBuffer } from "../body-buffer";
import { EMPTY_BYTES } from "../bytes";
import { BufferType, GrpcStatus, MapType, StreamType } from "../constants";
import type { Context, LocalReply, PendingActionHandler } from "../context";
import { HeaderMap } from "../header-map";
import type { Plugin } from "../plugin";
import { newStreamInfo, type StreamInfo } from "../stream-info";
import type { PropertyTree } from "../plugin-info";
import { wallClockMs } from "../scheduler";
import { CLOSE_STREAM_DETAILS, FAIL_STREAM_DETAILS, type FailurePolicy } from "../failure-policy";
import { bufferOverflowReply, DEFAULT_BUFFER_LIMIT_BYTES, overLimit, type BufferSide } from "./buffer-limit";
import { requiredResponseHeadersProblem, requiredResponseHeadersReply } from "./required-response-headers";
import { dataStatus, headersStatus, trailersStatus, type DataStatus, type HeadersStatus, type TrailersStatus } from "./filter-status";

/** Overrides of a stream that has none; shared, as nothing writes into a stream's overrides. */
const EMPTY_PROPERTIES: PropertyTree = Object.freeze({});

/** Where the driver sends traffic. Every method is called synchronously from a driver call. */
export interface HttpStreamSink {
  /** Forward request headers to the upstream. */
  upstreamHeaders(headers: HeaderMap, endOfStream: boolean): void;
  upstreamData(data: Uint8Array, endOfStream: boolean): void;
  upstreamTrailers(trailers: HeaderMap): void;
  /** Send response headers to the client (also for local replies). */
  downstreamHeaders(headers: HeaderMap, endOfStream: boolean): void;
  downstreamData(data: Uint8Array, endOfStream: boolean): void;
  downstreamTrailers(trailers: HeaderMap): void;
  /** Reset the stream (both directions) with these response-code details. */
  reset(details: string): void;
  /**
   * The buffer limit failed the stream (Envoy counts `downstream_rq_too_large` or
   * `rs_too_large`); called before the reply or reset goes out.
   */
  bufferOverflow?(side: BufferSide): void;
  /**
   * Flow control for a plugin that streams (the `...AndWatermark` statuses): `true` when what it
   * holds of `side` went past the buffer limit, `false` once that was passed on. Envoy then stops
   * reading from the downstream (request) or the upstream (response) until then (envoy
   * source/common/http/filter_manager.cc `onDecoderFilterAboveWriteBufferHighWatermark`).
   */
  watermark?(side: BufferSide, above: boolean): void;
}

export interface HttpStreamOptions {
  readonly failurePolicy?: FailurePolicy;
  /** Property overrides for this stream (e.g. `source.address`). */
  readonly properties?: PropertyTree;
  readonly connectionId?: number;
  readonly protocol?: string;
  /**
   * Envoy's per-stream buffer limit (listener `per_connection_buffer_limit_bytes`): the most body
   * bytes of one direction the plugin may buffer (StopIterationAndBuffer, or
   * StopAllIterationAndBuffer from headers) before the stream fails as in Envoy (see
   * buffer-limit.ts). 0: no limit. Default 1 MiB, Envoy's default.
   */
  readonly bufferLimitBytes?: number;
}

type Phase = "open" | "headers-stop-all" | "headers-stop" | "body-stop" | "trailers-stop" | "done";

/** One direction of the stream (request: downstream -> upstream; response: upstream -> downstream). */
class Direction {
  headers: HeaderMap | null = null;
  headersForwarded = false;
  /** Data received and not yet forwarded. */
  held = new BodyBuffer();
  /** The plugin returned StopIterationAndBuffer: its next body callback sees everything held. */
  bufferingForPlugin = false;
  trailers: HeaderMap | null = null;
  trailersForwarded = false;
  /** The peer finished this direction (end_of_stream seen or trailers received). */
  ended = false;
  phase: Phase = "open";
  /** The headers themselves carried end_of_stream. */
  headersEndedStream = false;
  /** Stopped at headers with StopAllIterationAndBuffer: what arrives meanwhile counts against the buffer limit. */
  stopAllBuffers = false;
  /** What a streaming plugin holds went past the buffer limit and reading was paused. */
  aboveWatermark = false;

  constructor(
    readonly isRequest: boolean,
    readonly headersMap: number,
    readonly trailersMap: number,
    readonly bodyBuffer: number,
  ) {}
}

export class HttpStream implements PendingActionHandler {
  /** The stream context, created lazily at the first request headers. */
  context: Context | null = null;
  /** The local reply the plugin (or the failure policy) sent, if any. */
  localReply: LocalReply | null = null;
  /** Set once the stream was reset (`proxy_close_stream`, or a local reply after the response started). */
  resetDetails: string | null = null;
  readonly streamInfo: StreamInfo;
  private readonly request = new Direction(true, MapType.RequestHeaders, MapType.RequestTrailers, BufferType.HttpRequestBody);
  private readonly response = new Direction(false, MapType.ResponseHeaders, MapType.ResponseTrailers, BufferType.HttpResponseBody);
  /** Callbacks are no longer delivered (fail open/closed, reset, local reply sent). */
  private passthrough = false;
  private suppressed = false;
  private completed = false;
  /**
   * Callbacks of this stream in progress. The VM can fail inside one through another context (a
   * continue it requested resumed a stream whose callback trapped); the driver then applies the
   * policy itself once its call returned, and `vmFailed` must not forward half-delivered data.
   */
  private ownCalls = 0;
  private readonly failurePolicy: FailurePolicy;
  private readonly bufferLimit: number;
  /** The direction whose buffer overflowed the limit and failed the stream, or null. */
  bufferOverflow: BufferSide | null = null;

  constructor(readonly plugin: Plugin, readonly sink: HttpStreamSink, options: HttpStreamOptions = {}) {
    this.failurePolicy = options.failurePolicy ?? "fail_closed";
    this.bufferLimit = options.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES;
    // A clock read costs as much as a hostcall; a module that cannot read properties never sees the times.
    const startTimeMs = plugin.vm.readsProperties ? wallClockMs(plugin.vm.process.scheduler) : 0;
    this.streamInfo = newStreamInfo(startTimeMs, options.connectionId ?? 1, options.properties ?? EMPTY_PROPERTIES);
    if (options.protocol !== undefined) this.streamInfo.protocol = options.protocol;
  }

  private get vm() {
    return this.plugin.vm;
  }

  // ---------------------------------------------------------------- inputs from downstream

  /**
   * Request headers arrived from downstream. Returns the filter's status for them. Like every
   * input below, legal until `complete()`; afterwards it reaches no callback and returns a stop.
   */
  requestHeaders(headers: HeaderMap, endOfStream: boolean): HeadersStatus {
    if (this.completed) return "StopAllIterationAndWatermark";
    this.streamInfo.requestHeaders = headers.clone();
    if (this.precheck()) return this.onFailedHeaders(this.request, headers, endOfStream);
    if (this.context === null) {
      const context = this.plugin.createStreamContext("http");
      context.driver = this;
      context.streamInfo = this.streamInfo;
      this.context = context;
      if (this.precheck()) return this.onFailedHeaders(this.request, headers, endOfStream);
    }
    return this.onHeaders(this.request, headers, endOfStream);
  }

  /** A request body chunk arrived. Returns the filter's status (the standing stop when not delivered). */
  requestBody(data: Uint8Array, endOfStream: boolean): DataStatus | HeadersStatus {
    if (this.completed) return "StopIterationNoBuffer";
    this.streamInfo.requestBodySize += data.length;
    return this.onData(this.request, data, endOfStream);
  }

  requestTrailers(trailers: HeaderMap): TrailersStatus | HeadersStatus {
    if (this.completed) return "StopIteration";
    return this.onTrailers(this.request, trailers);
  }

  // ---------------------------------------------------------------- inputs from upstream

  responseHeaders(headers: HeaderMap, endOfStream: boolean): HeadersStatus {
    if (this.completed || this.localReply !== null || this.resetDetails !== null) return "StopAllIterationAndWatermark";
    this.streamInfo.responseHeaders = headers;
    return this.onHeaders(this.response, headers, endOfStream);
  }

  responseBody(data: Uint8Array, endOfStream: boolean): DataStatus | HeadersStatus {
    if (this.completed || this.localReply !== null || this.resetDetails !== null) return "StopIterationNoBuffer";
    return this.onData(this.response, data, endOfStream);
  }

  responseTrailers(trailers: HeaderMap): TrailersStatus | HeadersStatus {
    if (this.completed || this.localReply !== null || this.resetDetails !== null) return "StopIteration";
    this.streamInfo.responseTrailers = trailers;
    return this.onTrailers(this.response, trailers);
  }

  /**
   * The stream is over (response sent or stream reset): `proxy_on_log`, `proxy_on_done`,
   * `proxy_on_delete`, in Envoy's HTTP order. Legal once; later calls do nothing. Frames that
   * still arrive afterwards (a slow client's request body after the router's 504) reach no
   * callback: Envoy destroys the filters when the stream ends (`ConnectionManagerImpl::doEndStream`).
   */
  complete(): void {
    if (this.completed) return;
    this.completed = true;
    if (this.vm.readsProperties) this.streamInfo.endTimeMs = wallClockMs(this.vm.process.scheduler);
    const context = this.context;
    if (context === null || context.deleted) return;
    const vm = this.vm;
    if (!vm.failed) {
      context.clearAvailability();
      // The access-log phase sees request/response headers and response trailers, read-only.
      context.headerMaps[MapType.RequestHeaders] = this.request.headers;
      context.headerMaps[MapType.ResponseHeaders] = this.response.headers;
      context.headerMaps[MapType.ResponseTrailers] = this.response.trailers;
      context.inLogPhase = true;
      vm.invoke("proxy_on_log", vm.streamCallbacks.log, context, context.id);
      context.clearAvailability();
      vm.invoke("proxy_on_done", vm.streamCallbacks.done, context, context.id);
    }
    vm.deleteContext(context);
    context.driver = null;
  }

  /** The request or response headers as the plugin has left them so far (held or forwarded), or null. */
  currentHeaders(which: "request" | "response"): HeaderMap | null {
    return (which === "request" ? this.request : this.response).headers;
  }

  /** Body bytes of a direction that the host holds right now (buffered or paused), not yet forwarded. */
  heldBody(which: "request" | "response"): Uint8Array {
    return (which === "request" ? this.request : this.response).held.bytes;
  }

  // ---------------------------------------------------------------- the driver

  /** True when the VM has failed; applies the failure policy once. */
  private precheck(): boolean {
    if (!this.vm.failed) return this.passthrough;
    if (!this.passthrough) {
      this.passthrough = true;
      if (this.failurePolicy !== "fail_open") this.failClosed();
    }
    return true;
  }

  private failClosed(): void {
    this.suppressed = true;
    this.sendLocalReply({ status: 503, details: FAIL_STREAM_DETAILS, body: EMPTY_BYTES, headers: new HeaderMap(), grpcStatus: this.isGrpcRequest() ? GrpcStatus.Unavailable : undefined }, false);
  }

  /** Envoy decides once, from the request headers as received, whether local replies are gRPC. */
  private isGrpcRequest(): boolean {
    const received = this.streamInfo.requestHeaders;
    return received !== null && isGrpcRequestHeaders(received);
  }

  private onFailedHeaders(direction: Direction, headers: HeaderMap, endOfStream: boolean): HeadersStatus {
    direction.headers = headers;
    direction.ended = endOfStream;
    if (this.suppressed || this.localReply !== null) return "StopAllIterationAndWatermark";
    this.forwardHeaders(direction);
    return "Continue";
  }

  private onHeaders(direction: Direction, headers: HeaderMap, endOfStream: boolean): HeadersStatus {
    direction.headers = headers;
    direction.ended = endOfStream;
    direction.headersEndedStream = endOfStream;
    if (this.precheck()) return this.onFailedHeaders(direction, headers, endOfStream);
    return this.callHeaders(direction);
  }

  private callHeaders(direction: Direction): HeadersStatus {
    const context = this.context!;
    const vm = this.vm;
    const headers = direction.headers!;
    context.headerMaps[direction.headersMap] = headers;
    context.writableMaps |= 1 << direction.headersMap;
    const callbacks = vm.streamCallbacks;
    const callback = direction.isRequest ? callbacks.requestHeaders : callbacks.responseHeaders;
    // Without the export nothing reads the map: its size is not asked for (a lazy map stays unbuilt).
    this.ownCalls++;
    const result = callback === undefined
      ? undefined
      : vm.invoke(direction.isRequest ? "proxy_on_request_headers" : "proxy_on_response_headers", callback, context, context.id, headers.size, direction.ended ? 1 : 0);
    this.ownCalls--;
    if (this.precheck()) return this.suppressed ? "StopAllIterationAndWatermark" : this.passOn(direction, "Continue");
    let status = headersStatus(result ?? 0, this.plugin.info.allowOnHeadersStopIteration);
    if (context.pendingLocalReply !== null) status = "StopAllIterationAndWatermark";
    if (status === "Continue") this.forwardHeaders(direction);
    else {
      direction.phase = status === "StopIteration" ? "headers-stop" : "headers-stop-all";
      direction.stopAllBuffers = status === "StopAllIterationAndBuffer";
    }
    this.applyPendingActions();
    return status;
  }

  /**
   * `data` is the caller's chunk: it is copied before the host keeps it or hands it to the
   * plugin, so a caller that reuses its array changes nothing here. A chunk that only passes
   * through is forwarded as it came.
   */
  private onData(direction: Direction, data: Uint8Array, endOfStream: boolean): DataStatus | HeadersStatus {
    if (direction.phase === "done" || this.resetDetails !== null) return "StopIterationNoBuffer";
    direction.ended = endOfStream;
    if (this.precheck()) {
      if (this.suppressed || this.localReply !== null) return "StopIterationNoBuffer";
      direction.held.append(data.slice());
      this.passOn(direction, "Continue");
      return "Continue";
    }
    if (direction.phase === "headers-stop-all") {
      direction.held.append(data.slice());
      // Stopped with ...AndWatermark, Envoy only applies flow control, whatever it holds.
      if (overLimit(direction.held.length, this.bufferLimit)) {
        if (direction.stopAllBuffers) this.failOverflow(direction);
        else this.raiseWatermark(direction);
      }
      return "StopAllIterationAndWatermark";
    }
    return this.callBody(direction, data, true);
  }

  /** `callerOwned`: `data` is the caller's chunk (copied before it is kept), not bytes the host held. */
  private callBody(direction: Direction, data: Uint8Array, callerOwned: boolean): DataStatus {
    const context = this.context!;
    const vm = this.vm;
    const callback = direction.isRequest ? vm.streamCallbacks.requestBody : vm.streamCallbacks.responseBody;
    // No body callback (Envoy: Continue) and nothing held back: the chunk goes straight on.
    if (callback === undefined && direction.phase === "open" && direction.headersForwarded && direction.held.length === 0 && direction.trailers === null) {
      if (direction.isRequest) this.sink.upstreamData(data, direction.ended);
      else {
        this.sink.downstreamData(data, direction.ended);
        this.streamInfo.responseBodySize += data.length;
      }
      if (direction.ended) direction.phase = "done";
      return "Continue";
    }
    if (callerOwned) data = data.slice();
    let view: BodyBuffer;
    let overflowed = false;
    if (direction.bufferingForPlugin) {
      // Envoy's Wasm filter adds the chunk to the buffer before the callback, and the limit is
      // checked as it is added (envoy source/extensions/common/wasm/context.cc `decodeData`).
      direction.held.append(data);
      view = direction.held;
      overflowed = overLimit(direction.held.length, this.bufferLimit);
      if (overflowed && !direction.isRequest) {
        // The 500 (or reset) goes out at once and ends the stream: the plugin never sees the chunk.
        this.failOverflow(direction);
        return "StopIterationAndBuffer";
      }
    } else {
      view = new BodyBuffer(data);
    }
    const endOfStream = direction.ended && direction.trailers === null;
    context.buffers[direction.bodyBuffer] = view;
    // Trailers can be added from the last body callback (Envoy creates the map on demand).
    let addedTrailers: HeaderMap | null = null;
    if (endOfStream) {
      addedTrailers = new HeaderMap();
      context.headerMaps[direction.trailersMap] = addedTrailers;
      context.writableMaps |= 1 << direction.trailersMap;
    }
    const callbacks = vm.streamCallbacks;
    this.ownCalls++;
    const result = direction.isRequest
      ? vm.invoke("proxy_on_request_body", callbacks.requestBody, context, context.id, view.length, endOfStream ? 1 : 0)
      : vm.invoke("proxy_on_response_body", callbacks.responseBody, context, context.id, view.length, endOfStream ? 1 : 0);
    this.ownCalls--;
    context.headerMaps[direction.trailersMap] = null;
    context.writableMaps &= ~(1 << direction.trailersMap);
    if (addedTrailers !== null && addedTrailers.size > 0) direction.trailers = addedTrailers;
    if (view !== direction.held) direction.held.append(view.bytes);
    if (overflowed) {
      // The request side's 413 was only prepared while the callback ran (Envoy's
      // `prepareLocalReplyViaFilterChain`, source/common/http/filter_manager.cc): the callback saw
      // the whole buffer, then the 413 goes out whatever it returned or asked for.
      context.pendingLocalReply = null;
      context.pendingContinue = 0;
      context.pendingClose = 0;
      this.failOverflow(direction);
      return "StopIterationAndBuffer";
    }
    if (this.precheck()) {
      if (!this.suppressed) this.passOn(direction, "Continue");
      return this.suppressed ? "StopIterationNoBuffer" : "Continue";
    }
    let status = dataStatus(result ?? 0);
    if (context.pendingLocalReply !== null) status = "StopIterationNoBuffer";
    switch (status) {
      case "Continue":
        this.forwardAll(direction);
        break;
      case "StopIterationAndBuffer":
        direction.bufferingForPlugin = true;
        direction.phase = "body-stop";
        break;
      case "StopIterationAndWatermark":
        direction.bufferingForPlugin = false;
        direction.phase = "body-stop";
        break;
      case "StopIterationNoBuffer":
        direction.held.clear();
        direction.bufferingForPlugin = false;
        direction.phase = "body-stop";
        context.buffers[direction.bodyBuffer] = null;
        break;
    }
    this.applyPendingActions();
    // The chunk the plugin chose to buffer can itself take the buffer past the limit.
    if (direction.phase === "body-stop" && overLimit(direction.held.length, this.bufferLimit)) {
      if (direction.bufferingForPlugin) this.failOverflow(direction);
      else this.raiseWatermark(direction);
    }
    return status;
  }

  /** A streaming plugin holds more than the limit: reading that side pauses (once). */
  private raiseWatermark(direction: Direction): void {
    if (direction.aboveWatermark || this.sink.watermark === undefined) return;
    direction.aboveWatermark = true;
    this.sink.watermark(direction.isRequest ? "request" : "response", true);
  }

  /** What a paused side held went on (or the stream ended): reading resumes. */
  private lowerWatermark(direction: Direction): void {
    if (!direction.aboveWatermark) return;
    direction.aboveWatermark = false;
    this.sink.watermark?.(direction.isRequest ? "request" : "response", false);
  }

  /**
   * A buffering plugin holds more than the buffer limit: Envoy's `requestDataTooLarge` (413
   * through the plugin's response callbacks) or `responseDataTooLarge` (500 straight to the
   * client, a reset once response headers went out), envoy source/common/http/filter_manager.cc.
   */
  private failOverflow(direction: Direction): void {
    const side: BufferSide = direction.isRequest ? "request" : "response";
    this.bufferOverflow = side;
    // What was held is never forwarded now; the stream keeps none of it.
    direction.held = new BodyBuffer();
    direction.bufferingForPlugin = false;
    if (this.context !== null) this.context.buffers[direction.bodyBuffer] = null;
    this.sink.bufferOverflow?.(side);
    this.sendLocalReply(bufferOverflowReply(side), direction.isRequest);
  }

  private onTrailers(direction: Direction, trailers: HeaderMap): TrailersStatus | HeadersStatus {
    if (direction.phase === "done" || this.resetDetails !== null) return "StopIteration";
    direction.trailers = trailers;
    direction.ended = true;
    if (this.precheck()) {
      if (this.suppressed || this.localReply !== null) return "StopIteration";
      this.passOn(direction, "Continue");
      return "Continue";
    }
    if (direction.phase === "headers-stop-all") return "StopAllIterationAndWatermark";
    return this.callTrailers(direction);
  }

  private callTrailers(direction: Direction): TrailersStatus {
    const context = this.context!;
    const vm = this.vm;
    const trailers = direction.trailers!;
    context.headerMaps[direction.trailersMap] = trailers;
    context.writableMaps |= 1 << direction.trailersMap;
    const callbacks = vm.streamCallbacks;
    this.ownCalls++;
    const result = direction.isRequest
      ? vm.invoke("proxy_on_request_trailers", callbacks.requestTrailers, context, context.id, trailers.size)
      : vm.invoke("proxy_on_response_trailers", callbacks.responseTrailers, context, context.id, trailers.size);
    this.ownCalls--;
    if (this.precheck()) {
      if (!this.suppressed) this.passOn(direction, "Continue");
      return this.suppressed ? "StopIteration" : "Continue";
    }
    let status = trailersStatus(result ?? 0);
    if (context.pendingLocalReply !== null) status = "StopIteration";
    if (status === "Continue") this.forwardAll(direction);
    else direction.phase = "trailers-stop";
    this.applyPendingActions();
    return status;
  }

  /** Forwards what the direction holds (used once callbacks no longer run). */
  private passOn<T>(direction: Direction, status: T): T {
    if (direction.headers !== null) this.forwardAll(direction);
    return status;
  }

  /** Sends the direction's headers on; false when a direct 502 replaced the response instead. */
  private forwardHeaders(direction: Direction): boolean {
    if (direction.headersForwarded || direction.headers === null) return true;
    // Envoy checks the response head once the filters are done with it, before the codec: a
    // `:status` the plugin removed or spoiled gets a direct 502 instead (filter_manager.cc).
    if (!direction.isRequest) {
      const problem = requiredResponseHeadersProblem(direction.headers);
      if (problem !== undefined) {
        this.sendLocalReply(requiredResponseHeadersReply(problem), false);
        return false;
      }
    }
    direction.headersForwarded = true;
    const endOfStream = direction.ended && direction.held.length === 0 && direction.trailers === null;
    if (direction.isRequest) this.sink.upstreamHeaders(direction.headers, endOfStream);
    else this.sink.downstreamHeaders(direction.headers, endOfStream);
    if (this.context !== null) {
      this.context.headerMaps[direction.headersMap] = null;
      this.context.writableMaps &= ~(1 << direction.headersMap);
    }
    if (endOfStream) direction.phase = "done";
    else if (direction.phase !== "body-stop") direction.phase = "open";
    return true;
  }

  /** Forwards headers (if still held), held data and trailers (if received). */
  private forwardAll(direction: Direction): void {
    this.forwardHeaders(direction);
    if (direction.phase === "done") return;
    const data = direction.held.bytes;
    direction.held = new BodyBuffer();
    direction.bufferingForPlugin = false;
    const withTrailers = direction.trailers !== null;
    if (data.length > 0 || (direction.ended && !withTrailers)) {
      const endOfStream = direction.ended && !withTrailers;
      if (direction.isRequest) this.sink.upstreamData(data, endOfStream);
      else this.sink.downstreamData(data, endOfStream);
      if (!direction.isRequest) this.streamInfo.responseBodySize += data.length;
    }
    if (withTrailers && direction.ended && !direction.trailersForwarded) {
      direction.trailersForwarded = true;
      if (direction.isRequest) this.sink.upstreamTrailers(direction.trailers!);
      else this.sink.downstreamTrailers(direction.trailers!);
    }
    direction.phase = direction.ended ? "done" : "open";
    if (this.context !== null) {
      this.context.buffers[direction.bodyBuffer] = null;
      this.context.headerMaps[direction.trailersMap] = null;
    }
    this.lowerWatermark(direction);
  }

  /** Resumes a direction after `proxy_continue_stream` (§4.8). */
  private resume(direction: Direction): void {
    const context = this.context!;
    switch (direction.phase) {
      case "headers-stop-all": {
        direction.phase = "open";
        const data = direction.held.bytes;
        // Data (or a bare end of stream) that arrived while stopped is delivered to the plugin now.
        const hasBody = data.length > 0 || (direction.ended && direction.trailers === null && !direction.headersEndedStream);
        if (!this.forwardHeaders(direction)) break;
        if (hasBody) {
          direction.held = new BodyBuffer();
          this.callBody(direction, data, false);
        }
        if (direction.phase === "open" && direction.trailers !== null && !direction.trailersForwarded) this.callTrailers(direction);
        break;
      }
      case "headers-stop":
        this.forwardHeaders(direction);
        break;
      case "body-stop":
      case "trailers-stop":
        this.forwardAll(direction);
        break;
      default:
        break;
    }
    // What was held went on, also past a plugin without a body callback: reading resumes.
    if (!overLimit(direction.held.length, this.bufferLimit)) this.lowerWatermark(direction);
    context.headerMaps[direction.headersMap] = null;
    context.buffers[direction.bodyBuffer] = null;
    if (!direction.isRequest) {
      // Envoy quirk: a response continue also drops the request pointers.
      context.headerMaps[MapType.RequestHeaders] = null;
      context.headerMaps[MapType.RequestTrailers] = null;
    }
  }

  /**
   * The VM failed in a callback other than this stream's own (PendingActionHandler): if a
   * direction is paused in the filter, the failure policy answers it now. Fail closed: the 503
   * local reply (a reset once the response started); fail open: what is held goes on unfiltered.
   * A stream not paused gets the policy at its next event, as in Envoy.
   */
  vmFailed(): void {
    if (this.completed || this.passthrough || this.ownCalls > 0) return;
    if (!isPaused(this.request) && !isPaused(this.response)) return;
    this.precheck();
    if (this.suppressed || this.localReply !== null || this.resetDetails !== null) return;
    if (this.request.headers !== null) this.forwardAll(this.request);
    if (this.response.headers !== null) this.forwardAll(this.response);
  }

  /** Applies continue/close/local reply recorded during a callback (PendingActionHandler). */
  applyPendingActions(): void {
    const context = this.context;
    if (context === null) return;
    for (;;) {
      const reply = context.pendingLocalReply;
      if (reply !== null) {
        context.pendingLocalReply = null;
        context.pendingContinue = 0;
        this.sendLocalReply(reply, true);
        continue;
      }
      if (context.pendingClose !== 0) {
        context.pendingClose = 0;
        context.pendingContinue = 0;
        this.resetStream(CLOSE_STREAM_DETAILS);
        continue;
      }
      if (context.pendingContinue !== 0) {
        const bits = context.pendingContinue;
        context.pendingContinue = 0;
        if (this.localReply !== null || this.resetDetails !== null) continue;
        if (bits & (1 << StreamType.Request)) this.resume(this.request);
        if (bits & (1 << StreamType.Response)) this.resume(this.response);
        continue;
      }
      return;
    }
  }

  private resetStream(details: string): void {
    if (this.resetDetails !== null) return;
    this.resetDetails = details;
    if (this.streamInfo.responseCodeDetails === "") this.streamInfo.responseCodeDetails = details;
    this.request.phase = "done";
    this.response.phase = "done";
    this.passthrough = true;
    this.sink.reset(details);
  }

  /**
   * Sends a local reply. From the request path it is encoded through the plugin's response
   * callbacks like any response [~ reference §4.5]; once response headers went downstream Envoy
   * can only reset the stream. A reply while an earlier one is still held in the plugin's response
   * callbacks goes straight to the client, past the plugin (Envoy's `sendDirectLocalReply`, envoy
   * source/common/http/filter_manager.cc); ignoring it would leave the client with no answer.
   * Nothing happens once the stream was reset or an earlier reply was delivered whole.
   */
  private sendLocalReply(reply: LocalReply, throughResponseCallbacks: boolean): void {
    if (this.resetDetails !== null) return;
    if (this.localReply !== null && this.response.phase === "done") return;
    if (this.response.headersForwarded) {
      this.resetStream(reply.details);
      return;
    }
    if (this.localReply !== null) throughResponseCallbacks = false;
    this.localReply = reply;
    this.streamInfo.responseCodeDetails = reply.details;
    this.request.phase = "done";
    const { headers, body } = localReplyResponse(reply, {
      grpc: this.isGrpcRequest(),
      head: this.streamInfo.requestHeaders?.getString(":method") === "HEAD",
    });
    const responseFromPlugin = throughResponseCallbacks && !this.suppressed && !this.vm.failed && this.response.headers === null;
    const response = this.response;
    response.headers = null;
    response.held = new BodyBuffer();
    response.phase = "open";
    this.streamInfo.responseHeaders = headers;
    if (responseFromPlugin) {
      this.onHeaders(response, headers, body.length === 0);
      if (body.length > 0) this.onData(response, body, true);
      return;
    }
    response.headers = headers;
    response.ended = true;
    if (body.length > 0) response.held.append(body);
    this.forwardAll(response);
  }
}

/** The direction waits on the filter: stopped in a callback, holding what arrived meanwhile. */
function isPaused(direction: Direction): boolean {
  return direction.phase === "headers-stop-all" || direction.phase === "headers-stop" || direction.phase === "body-stop" || direction.phase === "trailers-stop";
}

/**
 * Envoy's `Grpc::Common::isGrpcRequestHeaders`: a `:path` and a content-type that is exactly
 * `application/grpc` or `application/grpc+<codec>` (so `application/grpc-web` is not gRPC).
 */
export function isGrpcRequestHeaders(headers: HeaderMap): boolean {
  if (headers.get(":path") === undefined) return false;
  const contentType = headers.getString("content-type") ?? "";
  return contentType === "application/grpc" || contentType.startsWith("application/grpc+");
}

/** Envoy's `Grpc::Utility::httpToGrpcStatus`, used when a gRPC local reply names no gRPC status. */
export function httpToGrpcStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.Unavailable;
    default:
      return GrpcStatus.Unknown;
  }
}

/**
 * The `grpc-message` encoding Envoy uses (`PercentEncoding::encode` with `%` reserved): bytes
 * below space, from `~` up (Envoy's signed-char test catches every non-ASCII byte), and `%`
 * become `%XX` in upper-case hex; everything else is kept.
 */
export function percentEncodeGrpcMessage(message: Uint8Array): string {
  let encoded = "";
  for (const byte of message) {
    encoded += byte < 0x20 || byte >= 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(byte);
  }
  return encoded;
}

/**
 * The response Envoy's `prepareLocalReply`/`encodeLocalReply` make of a local reply: `:status`,
 * then the plugin's headers. For a gRPC request it is a trailers-only response (`:status 200`,
 * `content-type: application/grpc`, `grpc-status` unless the plugin set one, `grpc-message` from
 * the body, no content-length, no body). Otherwise a body sets content-length (and
 * `text/plain` when no content-type was given), no body removes both; HEAD drops the body.
 */
export function localReplyResponse(reply: LocalReply, request: { readonly grpc: boolean; readonly head: boolean }): { headers: HeaderMap; body: Uint8Array } {
  const headers = new HeaderMap();
  headers.add(":status", String(reply.status));
  for (const [key, value] of reply.headers.pairs()) headers.add(key, value);
  if (request.grpc) {
    headers.replace(":status", "200");
    headers.replace("content-type", "application/grpc");
    if ((headers.getString("grpc-status") ?? "") === "") headers.replace("grpc-status", String(reply.grpcStatus ?? httpToGrpcStatus(reply.status)));
    if (reply.body.length > 0 && !request.head) headers.replace("grpc-message", percentEncodeGrpcMessage(reply.body));
    headers.remove("content-length");
    return { headers, body: EMPTY_BYTES };
  }
  if (reply.body.length > 0) {
    headers.replace("content-length", String(reply.body.length));
    if (headers.get("content-type") === undefined) headers.add("content-type", "text/plain");
  } else {
    headers.remove("content-length");
    headers.remove("content-type");
  }
  return { headers, body: request.head ? EMPTY_BYTES : reply.body };
}
