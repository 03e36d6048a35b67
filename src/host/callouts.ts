/**
 * HTTP and gRPC callouts as the host hands them to an "upstream": the test kit answers them from
 * the test, the dev proxy sends them over the network. Answers are delivered to the plugin later,
 * never inside the VM call that made the request.
 */
import type { HeaderMap } from "./header-map";

export interface HttpCalloutResponse {
  readonly headers: HeaderMap;
  readonly body: Uint8Array;
  readonly trailers: HeaderMap;
}

/** One `proxy_http_call` that the host accepted. */
export interface HttpCallout {
  readonly kind: "http";
  readonly token: number;
  readonly cluster: string;
  readonly headers: HeaderMap;
  readonly body: Uint8Array;
  readonly trailers: HeaderMap;
  /** 0 means no timeout. */
  readonly timeoutMs: number;
  /** Delivers a response (`proxy_on_http_call_response`). Legal once; later calls throw. */
  respond(response: HttpCalloutResponse): void;
  /** Delivers a failure: the callback gets 0/0/0 and `proxy_get_status` says 11 "reset". */
  fail(): void;
  /** True once answered, failed or cancelled. */
  readonly settled: boolean;
}

/** One `proxy_grpc_call` or `proxy_grpc_stream`. */
export interface GrpcCallout {
  readonly kind: "grpc-call" | "grpc-stream";
  readonly token: number;
  readonly cluster: string;
  readonly serviceName: string;
  readonly methodName: string;
  readonly initialMetadata: HeaderMap;
  /** The request message of a unary call; for streams, messages sent so far. */
  readonly messages: Uint8Array[];
  readonly timeoutMs: number;
  /** True after the plugin half-closed (stream) or for a unary call. */
  readonly localClosed: boolean;
  /** True after `proxy_grpc_cancel`, or `proxy_grpc_close` on a unary call. */
  readonly cancelled: boolean;
  /** Unary: the response message (`proxy_on_grpc_receive`). Stream: one message. */
  receive(message: Uint8Array): void;
  /** Stream only: `proxy_on_grpc_receive_initial_metadata`. */
  receiveInitialMetadata(metadata: HeaderMap): void;
  /** Stream only: `proxy_on_grpc_receive_trailing_metadata`. */
  receiveTrailingMetadata(metadata: HeaderMap): void;
  /** Remote close with a status (`proxy_on_grpc_close`); the message is what `proxy_get_status` returns. */
  close(status: number, message?: string): void;
  readonly settled: boolean;
}

export type Callout = HttpCallout | GrpcCallout;

/** Where the host sends callouts. `dispatch` must not answer synchronously into the VM; the host defers anyway. */
export interface CalloutUpstream {
  dispatch(callout: Callout): void;
  /** The plugin cancelled the callout (gRPC cancel/close, or its root context went away). */
  cancelled?(callout: Callout): void;
  /**
   * Stream only: the plugin sent one more message (`proxy_grpc_send`); `endStream` half-closes.
   * Called after the message was appended to `callout.messages`, never for a unary call.
   */
  sent?(callout: GrpcCallout, message: Uint8Array, endStream: boolean): void;
  /** Stream only: the plugin half-closed without a message (`proxy_grpc_close` on a stream). */
  closedLocally?(callout: GrpcCallout): void;
}
