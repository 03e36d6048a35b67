// http_body: rewrites a request or response body once it has arrived in full, or echoes the
// request body back. Plugin configuration: `echo` for the echo filter, anything else (or
// nothing) for the body-rewriting filter, which the request controls with two headers:
//   buffer-replace-at: response   rewrite the response body instead of the request body
//   buffer-operation: append | prepend | replace   (anything else: replace)
import {
  RootContext, HttpContext, Buffer, FilterHeadersStatus, FilterDataStatus, registerRoot, log,
  sendLocalResponse, sendLocalResponseBytes,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

class BodyRoot extends RootContext {
  echo: bool = false;

  onConfigure(pluginConfigurationSize: u32): bool {
    this.echo = this.pluginConfigurationText() == "echo";
    return true;
  }

  createHttpContext(contextId: u32): HttpContext {
    if (this.echo) return new EchoBody(contextId, this);
    return new SetBody(contextId, this);
  }
}

class SetBody extends HttpContext {
  private modifyResponse: bool = false;
  private operation: string = "replace";

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const mode = this.requestHeaders.get("buffer-replace-at");
    if (mode !== null && mode == "response") this.modifyResponse = true;

    if (!this.requestHeaders.has("content-length")) {
      sendLocalResponse(400, "content must be provided");
      return FilterHeadersStatus.StopIteration;
    }
    // The new body has another length than the announced one: drop the stale header, the
    // proxy then streams the body instead.
    this.requestHeaders.remove("content-length");

    const operation = this.requestHeaders.get("buffer-operation");
    if (operation !== null && (operation == "append" || operation == "prepend")) {
      this.operation = operation;
    }
    return FilterHeadersStatus.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (this.modifyResponse) return FilterDataStatus.Continue;
    // Until the end of the stream, keep buffering: the last call then sees the whole body.
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    log.info("original request body: " + this.requestBody.text());
    this.rewrite(this.requestBody);
    return FilterDataStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    if (this.modifyResponse) this.responseHeaders.remove("content-length");
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (!this.modifyResponse) return FilterDataStatus.Continue;
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    log.info("original response body: " + this.responseBody.text());
    this.rewrite(this.responseBody);
    return FilterDataStatus.Continue;
  }

  private rewrite(body: Buffer): void {
    if (this.operation == "append") body.appendText("[this is appended body]");
    else if (this.operation == "prepend") body.prependText("[this is prepended body]");
    else body.replaceText("[this is replaced body]");
  }
}

class EchoBody extends HttpContext {
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    // Bytes, not text: the echo must not depend on the body being UTF-8.
    sendLocalResponseBytes(200, this.requestBody.bytes());
    return FilterDataStatus.StopIterationAndBuffer;
  }
}

registerRoot("", (contextId: u32): RootContext => new BodyRoot(contextId));
