import type { FailurePolicy } from "../config/dev-proxy-config";
import { localReplyHeaders } from "../filters/filter-chain";
import type { HttpFilterSink, HttpFilterStream, HttpStreamInfo, LocalReply } from "../filters/http-filter";
import type { HeaderList } from "../header-list";
import { asBuffer, Op, transferable, type WorkerMessage } from "./worker-protocol";

type Event = (sink: HttpFilterSink) => void;

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
  // What the worker has not passed on yet, replayed by a fail-open bypass.
  private unforwardedRequest: Event[] | null = [];
  private unforwardedResponse: Event[] | null = [];
  private requestEndedAtWorker = false;
  private responseSentToWorker = false;

  constructor(
    readonly id: number,
    private readonly sink: HttpFilterSink,
    private readonly info: HttpStreamInfo,
    private readonly send: (message: WorkerMessage) => void,
    private readonly onFinish: (stream: WorkerFilterStream) => void,
  ) {}

  requestHeaders(headers: HeaderList, endOfStream: boolean): void {
    this.forward([Op.RequestHeaders, this.id, headers, endOfStream], (sink) => sink.requestHeaders(headers, endOfStream), "request");
  }

  requestBody(chunk: Buffer, endOfStream: boolean): void {
    this.forward([Op.RequestBody, this.id, transferable(chunk), endOfStream], (sink) => sink.requestBody(chunk, endOfStream), "request");
  }

  requestTrailers(trailers: HeaderList): void {
    this.forward([Op.RequestTrailers, this.id, trailers], (sink) => sink.requestTrailers(trailers), "request");
  }

  responseHeaders(headers: HeaderList, endOfStream: boolean): void {
    this.responseSentToWorker = true;
    this.forward([Op.ResponseHeaders, this.id, headers, endOfStream], (sink) => sink.responseHeaders(headers, endOfStream), "response");
  }

  responseBody(chunk: Buffer, endOfStream: boolean): void {
    this.responseSentToWorker = true;
    this.forward([Op.ResponseBody, this.id, transferable(chunk), endOfStream], (sink) => sink.responseBody(chunk, endOfStream), "response");
  }

  responseTrailers(trailers: HeaderList): void {
    this.responseSentToWorker = true;
    this.forward([Op.ResponseTrailers, this.id, trailers], (sink) => sink.responseTrailers(trailers), "response");
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.mode === "worker" && this.opened) this.send([Op.Finish, this.id]);
    this.onFinish(this);
  }

  /** A message from the worker's chain for this stream. */
  deliver([op, , a, b]: WorkerMessage): void {
    if (this.mode !== "worker" || this.finished) return;
    switch (op) {
      case Op.RequestHeaders:
        this.unforwardedRequest = null;
        this.requestEndedAtWorker = b as boolean;
        return this.sink.requestHeaders(a as HeaderList, b as boolean);
      case Op.RequestBody:
        this.requestEndedAtWorker = b as boolean;
        return this.sink.requestBody(asBuffer(a as Uint8Array), b as boolean);
      case Op.RequestTrailers:
        this.requestEndedAtWorker = true;
        return this.sink.requestTrailers(a as HeaderList);
      case Op.ResponseHeaders:
        this.unforwardedResponse = null;
        return this.sink.responseHeaders(a as HeaderList, b as boolean);
      case Op.ResponseBody:
        return this.sink.responseBody(asBuffer(a as Uint8Array), b as boolean);
      case Op.ResponseTrailers:
        return this.sink.responseTrailers(a as HeaderList);
      case Op.LocalReply: {
        const reply = a as LocalReply;
        return this.sink.localReply({ ...reply, body: asBuffer(reply.body) });
      }
      case Op.Reset:
        return this.sink.reset(a as string);
    }
  }

  /**
   * The worker running this stream is gone. Returns what happened to the stream, for the log:
   * `local_reply`, `bypass` or `reset`.
   */
  fail(policy: FailurePolicy): "local_reply" | "bypass" | "reset" | "finished" {
    if (this.finished || this.mode !== "worker") return "finished";
    if (policy === "FAIL_OPEN") {
      if (this.unforwardedRequest !== null) {
        this.mode = "bypass";
        for (const event of this.unforwardedRequest) event(this.sink);
        return "bypass";
      }
      if (this.requestEndedAtWorker && (!this.responseSentToWorker || this.unforwardedResponse !== null)) {
        this.mode = "bypass";
        for (const event of this.unforwardedResponse ?? []) event(this.sink);
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

  private forward(message: WorkerMessage, event: Event, side: "request" | "response"): void {
    if (this.finished) return;
    if (this.mode === "bypass") return event(this.sink);
    if (this.mode === "dead") return;
    const unforwarded = side === "request" ? this.unforwardedRequest : this.unforwardedResponse;
    unforwarded?.push(event);
    if (!this.opened) {
      this.opened = true;
      this.send([Op.Open, this.id, this.info]);
    }
    this.send(message);
  }
}
