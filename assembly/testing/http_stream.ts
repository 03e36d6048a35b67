// One HTTP stream through the filter: the spec plays the client and the upstream frame by
// frame, and reads what the filter returned and what reached each side.

import { bytesToWire, wireToBytes } from "./bytes";
import { check } from "./errors";
import { Headers } from "./headers";
import * as host from "./imports";

// Side and direction numbers shared with the JS half.
const REQUEST: i32 = 0;
const RESPONSE: i32 = 1;
const UPSTREAM: i32 = 0;
const DOWNSTREAM: i32 = 1;

/** What reached one side of the stream: the upstream (request) or the client (response). */
export class StreamSide {
  constructor(private readonly stream: i32, private readonly side: i32) {}

  /** True once headers reached this side. */
  get reached(): bool {
    const reached = host.side_reached(this.stream, this.side);
    check();
    return reached != 0;
  }

  /** The headers that reached this side; empty when none did (see `reached`). */
  get headers(): Headers {
    const text = host.side_headers(this.stream, this.side);
    check();
    return Headers.decode(text);
  }

  /** The first value of header `name` that reached this side, or null. */
  header(name: string): string | null {
    return this.headers.get(name);
  }

  /** The body that reached this side, all chunks joined (UTF-8 decoded). */
  get body(): string {
    const body = host.side_body(this.stream, this.side);
    check();
    return body;
  }

  /** The body that reached this side as bytes, all chunks joined. */
  get bodyBytes(): ArrayBuffer {
    const wire = host.side_body_bytes(this.stream, this.side);
    check();
    return wireToBytes(wire);
  }

  /** The trailers that reached this side; empty when none did. */
  get trailers(): Headers {
    const text = host.side_trailers(this.stream, this.side);
    check();
    return Headers.decode(text);
  }

  /** True once this side saw end of stream. */
  get ended(): bool {
    const ended = host.side_ended(this.stream, this.side);
    check();
    return ended != 0;
  }
}

/** The local reply the filter sent (or the fail-closed 503 the host sent for it). */
export class LocalResponse {
  constructor(private readonly stream: i32) {}

  /** The reply's HTTP status, or 0 when no local reply was sent. */
  get status(): u32 {
    const status = host.local_status(this.stream);
    check();
    return status;
  }

  get sent(): bool {
    return this.status != 0;
  }

  /** The reply body; "" when none was sent. */
  get body(): string {
    const body = host.local_body(this.stream);
    check();
    return body;
  }

  /** Envoy's response code details (e.g. the filter's details string); "" when none was sent. */
  get details(): string {
    const details = host.local_details(this.stream);
    check();
    return details;
  }

  /** The extra headers the filter gave the reply; empty when none was sent. */
  get headers(): Headers {
    const text = host.local_headers(this.stream);
    check();
    return Headers.decode(text);
  }

  /** The gRPC status the filter set, or -1 when it set none or no reply was sent. */
  get grpcStatus(): i32 {
    const status = host.local_grpc_status(this.stream);
    check();
    return status;
  }
}

/**
 * A stream handle from `TestHost.http()`. Every frame operation returns the Action the filter's
 * callback came to (see action.ts) and aborts the test with the host's message when the host
 * refuses the frame.
 */
export class HttpStream {
  /** What the upstream received. */
  readonly upstream: StreamSide;
  /** What the client received. */
  readonly downstream: StreamSide;
  /** The local reply, if the filter sent one. */
  readonly localResponse: LocalResponse;

  constructor(private readonly handle: i32) {
    this.upstream = new StreamSide(handle, UPSTREAM);
    this.downstream = new StreamSide(handle, DOWNSTREAM);
    this.localResponse = new LocalResponse(handle);
  }

  /** Delivers the request headers (`proxy_on_request_headers`); returns the Action. */
  requestHeaders(headers: Headers, endOfStream: bool = false): string {
    const action = host.stream_headers(this.handle, REQUEST, headers.encode(), endOfStream);
    check();
    return action;
  }

  /** Delivers a request body chunk (`proxy_on_request_body`); returns the Action. */
  requestBody(chunk: string, endOfStream: bool = false): string {
    const action = host.stream_body(this.handle, REQUEST, chunk, endOfStream);
    check();
    return action;
  }

  /** Delivers a request body chunk of raw bytes; returns the Action. */
  requestBodyBytes(chunk: ArrayBuffer, endOfStream: bool = false): string {
    const action = host.stream_body_bytes(this.handle, REQUEST, bytesToWire(chunk), endOfStream);
    check();
    return action;
  }

  /** Delivers the request trailers (end of the request); returns the Action. */
  requestTrailers(trailers: Headers): string {
    const action = host.stream_trailers(this.handle, REQUEST, trailers.encode());
    check();
    return action;
  }

  /** Delivers the upstream's response headers (`proxy_on_response_headers`); returns the Action. */
  responseHeaders(headers: Headers, endOfStream: bool = false): string {
    const action = host.stream_headers(this.handle, RESPONSE, headers.encode(), endOfStream);
    check();
    return action;
  }

  /** Delivers a response body chunk (`proxy_on_response_body`); returns the Action. */
  responseBody(chunk: string, endOfStream: bool = false): string {
    const action = host.stream_body(this.handle, RESPONSE, chunk, endOfStream);
    check();
    return action;
  }

  /** Delivers a response body chunk of raw bytes; returns the Action. */
  responseBodyBytes(chunk: ArrayBuffer, endOfStream: bool = false): string {
    const action = host.stream_body_bytes(this.handle, RESPONSE, bytesToWire(chunk), endOfStream);
    check();
    return action;
  }

  /** Delivers the response trailers; returns the Action. */
  responseTrailers(trailers: Headers): string {
    const action = host.stream_trailers(this.handle, RESPONSE, trailers.encode());
    check();
    return action;
  }

  /** Ends the stream: `proxy_on_log`, `proxy_on_done`, `proxy_on_delete`. */
  complete(): void {
    host.stream_complete(this.handle);
    check();
  }

  /** The filter's context id for this stream; 0 before the request headers. */
  get contextId(): u32 {
    const id = host.stream_context_id(this.handle);
    check();
    return id;
  }

  /** The request headers as the filter has left them so far (held or forwarded); empty before any. */
  get currentRequestHeaders(): Headers {
    const text = host.stream_current_headers(this.handle, REQUEST);
    check();
    return Headers.decode(text);
  }

  /** The response headers as the filter has left them so far; empty before any. */
  get currentResponseHeaders(): Headers {
    const text = host.stream_current_headers(this.handle, RESPONSE);
    check();
    return Headers.decode(text);
  }

  /** Request body the host holds right now (buffered or paused). */
  get heldRequestBody(): string {
    const body = host.stream_held_body(this.handle, REQUEST);
    check();
    return body;
  }

  /** Response body the host holds right now. */
  get heldResponseBody(): string {
    const body = host.stream_held_body(this.handle, RESPONSE);
    check();
    return body;
  }

  /** Why the host reset the stream (e.g. `wasm_close_stream`), or "" when it did not. */
  get resetDetails(): string {
    const details = host.stream_reset_details(this.handle);
    check();
    return details;
  }
}
