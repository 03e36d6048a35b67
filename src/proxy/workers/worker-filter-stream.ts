import type { FailurePolicy } from "../config/dev-proxy-config";
import { localReplyHeaders } from "../filters/filter-chain";
import type { HttpFilterSink, HttpFilterStream, HttpStreamInfo, LocalReply } from "../filters/http-filter";
import type { HeaderList } from "../header-list";
import { asBuffer, flattenHeaders, flattenStreamInfo, Op, transferable, unflattenHeaders, type FlatHeaders } from "./worker-protocol";

/**
 * The main thread's end of one stream that a worker filters. Events go to the worker as
 * messages; what the worker's chain lets through comes back through `deliver`. When the worker
 * dies (callback time limit), `fail` applies the failure policy: fail closed answers 503
 * `wasm_fail_stream` if the response has not started, fail open lets the stream continue
 * unfiltered when nothing was lost, and anything else is reset.
 */
export class WorkerFilterStream implements HttpFilterStream {
  private opened = false;
  private finished = false;
  /** After a failure: "bypass" passes events straight on, "dead" drops them. */
  private mode: "worker" | "bypass" | "dead" = "worker";
  // What the worker has not passed on yet, replayed by a fail-open bypass: flat `op, payload,
  // endOfStream` triples (no closure per event), null once the worker passed that side's headers.
  private unforwardedRequest: unknown[] | null = [];
  private unforwardedResponse: unknown[] | null = [];
  private requestEndedAtWorker = false;
  private responseSentToWorker = false;
  /** Sides whose reading the worker's filters paused (flow control). */
  private requestPaused = false;
  private responsePaused = false;

  constructor(
    readonly id: number,
    private readonly sink: HttpFilterSink,
    private readonly info: HttpStreamInfo,
    private readonly send: (op: number, id: number, a?: unknown, b?: unknown) => void,
    private readonly onFinish: (stream: WorkerFilterStream) => void,
  ) {}

  requestHeaders(headers: HeaderList, endOfStream: boolean): void {
    this.forward(Op.RequestHeaders, headers, endOfStream, this.unforwardedRequest);
  }

  requestBody(chunk: Buffer, endOfStream: boolean): void {
    this.forward(Op.RequestBody, chunk, endOfStream, this.unforwardedRequest);
  }

  requestTrailers(trailers: HeaderList): void {
    this.forward(Op.RequestTrailers, trailers, undefined, this.unforwardedRequest);
  }

  responseHeaders(headers: HeaderList, endOfStream: boolean): void {
    this.responseSentToWorker = true;
    this.forward(Op.ResponseHeaders, headers, endOfStream, this.unforwardedResponse);
  }

  responseBody(chunk: Buffer, endOfStream: boolean): void {
    this.responseSentToWorker = true;
    this.forward(Op.ResponseBody, chunk, endOfStream, this.unforwardedResponse);
  }

  responseTrailers(trailers: HeaderList): void {
    this.responseSentToWorker = true;
    this.forward(Op.ResponseTrailers, trailers, undefined, this.unforwardedResponse);
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.mode === "worker" && this.opened) this.send(Op.Finish, this.id);
    this.onFinish(this);
  }

  /** A record `op, a, b` from the worker's chain for this stream. */
  deliver(op: number, a: unknown, b: unknown): void {
    if (this.mode !== "worker" || this.finished) return;
    switch (op) {
      case Op.RequestHeaders:
        this.unforwardedRequest = null;
        this.requestEndedAtWorker = b as boolean;
        return this.sink.requestHeaders(unflattenHeaders(a as FlatHeaders), b as boolean);
      case Op.RequestBody:
        this.requestEndedAtWorker = b as boolean;
        return this.sink.requestBody(asBuffer(a as Uint8Array), b as boolean);
      case Op.RequestTrailers:
        this.requestEndedAtWorker = true;
        return this.sink.requestTrailers(unflattenHeaders(a as FlatHeaders));
      case Op.ResponseHeaders:
        this.unforwardedResponse = null;
        return this.sink.responseHeaders(unflattenHeaders(a as FlatHeaders), b as boolean);
      case Op.ResponseBody:
        return this.sink.responseBody(asBuffer(a as Uint8Array), b as boolean);
      case Op.ResponseTrailers:
        return this.sink.responseTrailers(unflattenHeaders(a as FlatHeaders));
      case Op.LocalReply: {
        const reply = a as LocalReply;
        return this.sink.localReply({ ...reply, body: asBuffer(reply.body) });
      }
      case Op.Reset:
        return this.sink.reset(a as string);
      case Op.ClearRouteCache:
        this.info.routeCacheCleared = true;
        return;
      case Op.FlowControl:
        if (a === "request") this.requestPaused = b as boolean;
        else this.responsePaused = b as boolean;
        return this.sink.flowControl?.(a as "request" | "response", b as boolean);
    }
  }

  /**
   * The worker running this stream is gone. Returns what happened to the stream, for the log:
   * `local_reply`, `bypass` or `reset`.
   */
  fail(policy: FailurePolicy): "local_reply" | "bypass" | "reset" | "finished" {
    if (this.finished || this.mode !== "worker") return "finished";
    // Nothing holds the stream's bytes any more: what the dead worker's filters paused reads on.
    if (this.requestPaused) this.sink.flowControl?.("request", false);
    if (this.responsePaused) this.sink.flowControl?.("response", false);
    this.requestPaused = this.responsePaused = false;
    if (policy === "FAIL_OPEN") {
      if (this.unforwardedRequest !== null) {
        this.mode = "bypass";
        this.replay(this.unforwardedRequest);
        return "bypass";
      }
      if (this.requestEndedAtWorker && (!this.responseSentToWorker || this.unforwardedResponse !== null)) {
        this.mode = "bypass";
        if (this.unforwardedResponse !== null) this.replay(this.unforwardedResponse);
        return "bypass";
      }
    } else if (this.unforwardedResponse !== null) {
      this.mode = "dead";
      // The first filter's response side leads to the downstream: the reply skips the dead VM.
      const reply: LocalReply = { status: 503, headers: [], body: Buffer.alloc(0), details: "wasm_fail_stream" };
      this.sink.responseHeaders(localReplyHeaders(reply), true);
      return "local_reply";
    }
    this.mode = "dead";
    this.sink.reset("wasm_fail_stream");
    return "reset";
  }

  private forward(op: number, payload: HeaderList | Buffer, endOfStream: boolean | undefined, unforwarded: unknown[] | null): void {
    if (this.finished) return;
    if (this.mode === "bypass") return this.emit(op, payload, endOfStream);
    if (this.mode === "dead") return;
    unforwarded?.push(op, payload, endOfStream);
    if (!this.opened) {
      this.opened = true;
      this.send(Op.Open, this.id, flattenStreamInfo(this.info));
    }
    const wire = op === Op.RequestBody || op === Op.ResponseBody ? transferable(payload as Buffer) : flattenHeaders(payload as HeaderList);
    this.send(op, this.id, wire, endOfStream);
  }

  private replay(events: unknown[]): void {
    for (let i = 0; i < events.length; i += 3) this.emit(events[i] as number, events[i + 1] as HeaderList | Buffer, events[i + 2] as boolean);
  }

  /** Passes one event straight to the sink (bypass). */
  private emit(op: number, payload: HeaderList | Buffer, endOfStream: boolean | undefined): void {
    switch (op) {
      case Op.RequestHeaders:
        return this.sink.requestHeaders(payload as HeaderList, endOfStream as boolean);
      case Op.RequestBody:
        return this.sink.requestBody(payload as Buffer, endOfStream as boolean);
      case Op.RequestTrailers:
        return this.sink.requestTrailers(payload as HeaderList);
      case Op.ResponseHeaders:
        return this.sink.responseHeaders(payload as HeaderList, endOfStream as boolean);
      case Op.ResponseBody:
        return this.sink.responseBody(payload as Buffer, endOfStream as boolean);
      case Op.ResponseTrailers:
        return this.sink.responseTrailers(payload as HeaderList);
    }
  }
}
