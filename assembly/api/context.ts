// The base of every context: identity, lifecycle end and the callout callbacks, which the SDK
// routes to the context that made the call (see callouts.ts).
import { GrpcStatus } from "../abi/enums";
import { HttpCallResponse } from "./http_call_response";

/** Which ABI callbacks a context receives. */
export const enum ContextKind {
  Root = 0,
  Http = 1,
  Tcp = 2,
}

/** What root, HTTP and TCP contexts share: the host's context id and the callbacks every
 * context receives. Filters extend RootContext, HttpContext or TcpContext, never this. */
export class Context {
  // @ts-ignore: decorator
  @inline constructor(
    /** The host's context id (root contexts: the plugin's id; streams: one per stream). */
    public readonly id: u32,
    /** @internal set by the subclass constructors. */
    public readonly kind: ContextKind,
  ) {}

  /**
   * The answer to an httpCall this context made (also when it failed: `response.failed`).
   * Runs with this context effective, so stream operations (headers, continue, local response)
   * act on this stream. Not called if this context was deleted before the answer arrived.
   */
  onHttpCallResponse(token: u32, response: HttpCallResponse): void {}

  /** Initial metadata of a gRPC stream this context opened; read it with grpcInitialMetadata. */
  onGrpcReceiveInitialMetadata(token: u32, headerCount: u32): void {}

  /** A gRPC message (the unary answer, or one stream message); read it with grpcMessage. */
  onGrpcReceive(token: u32, messageSize: u32): void {}

  /** Trailing metadata of a gRPC stream; read it with grpcTrailingMetadata. */
  onGrpcReceiveTrailingMetadata(token: u32, trailerCount: u32): void {}

  /** A gRPC call or stream ended with `status`; grpcStatusMessage() gives the message. */
  onGrpcClose(token: u32, status: GrpcStatus): void {}

  /**
   * The host is finishing this context. Stream contexts: the return value is ignored by Envoy.
   * Root contexts: return false to finish later with RootContext.done(). Default: true.
   */
  onDone(): bool {
    return true;
  }

  /** Access-log time. HTTP streams: before onDone; TCP: after onDone. */
  onLog(): void {}

  /** Last callback; the SDK forgets the context right after it. */
  onDelete(): void {}
}
