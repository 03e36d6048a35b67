// grpc_auth_random: lets a gRPC request pass only if a gRPC call to grpcbin's RandomError
// returns an even status code. The Rust SDK's grpc_auth_random example. No configuration.
import {
  RootContext, HttpContext, FilterHeadersStatus, GrpcStatus, Header, registerHttpFilter, grpcCall,
  continueRequest, sendLocalResponse, lastResult, log,
} from "proxy-wasm-as/assembly";

export * from "proxy-wasm-as/assembly/exports";

class RandomGrpcAuth extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const contentType = this.requestHeaders.get("content-type");
    if (contentType === null || !contentType.startsWith("application/grpc")) {
      sendLocalResponse(503, "Service accessible only to gRPC clients.\n", [Header.of("Powered-By", "proxy-wasm")]);
      return FilterHeadersStatus.StopIteration;
    }

    // Let clients discover the services without asking the authorizer.
    const path = this.requestHeaders.get(":path");
    if (path !== null && path.startsWith("/grpc.reflection")) return FilterHeadersStatus.Continue;

    // `grpcbin` is a cluster name; the call carries no metadata and an empty message.
    if (grpcCall(this, "grpcbin", "grpcbin.GRPCBin", "RandomError", null, null, 1000) == 0) {
      log.error(`gRPC call to grpcbin failed: ${lastResult()}`);
      this.forbid();
    }
    return FilterHeadersStatus.StopIteration;
  }

  // A unary call ends either with its answer (status OK, 0) or with onGrpcClose.
  onGrpcReceive(token: u32, messageSize: u32): void {
    this.decide(GrpcStatus.Ok);
  }

  onGrpcClose(token: u32, status: GrpcStatus): void {
    this.decide(status);
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.replace("Powered-By", "proxy-wasm");
    return FilterHeadersStatus.Continue;
  }

  private decide(status: GrpcStatus): void {
    if (<i32>status % 2 == 0) {
      log.info("Access granted.");
      continueRequest();
      return;
    }
    this.forbid();
  }

  /** A gRPC error for the client: HTTP 200 with grpc-status ABORTED (10). Envoy turns the body
   * of a local reply to a gRPC request into the grpc-message. */
  private forbid(): void {
    log.info("Access forbidden.");
    sendLocalResponse(200, "Aborted by Proxy-Wasm!", [Header.of("Powered-By", "proxy-wasm")], "", GrpcStatus.Aborted);
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new RandomGrpcAuth(contextId, root));
