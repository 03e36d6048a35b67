// http_body_chunk: scans the request body chunk by chunk, as it arrives, and rejects the
// request with a 403 as soon as a chunk contains the word `pattern`.
//
// While a body callback returns StopIterationAndBuffer, the host keeps the chunks and the next
// callback's bodySize is the size of everything buffered so far. The filter remembers how much
// it has read and fetches only the new bytes each time.
import {
  RootContext, HttpContext, FilterDataStatus, Header, registerHttpFilter, log, sendLocalResponse,
} from "proxy-wasm-as/assembly";

// The ABI callbacks, allocator and version marker must be exports of the entry file.
export * from "proxy-wasm-as/assembly/exports";

const PATTERN = "pattern";

class BodyChunkFilter extends HttpContext {
  private totalRequestBodyReadSize: u32 = 0;
  private receivedChunks: u32 = 0;

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    log.info(
      "OnHttpRequestBody called. BodySize: " + bodySize.toString() +
      ", totalRequestBodyReadSize: " + this.totalRequestBodyReadSize.toString() +
      ", endOfStream: " + (endOfStream ? "true" : "false"),
    );

    if (bodySize > this.totalRequestBodyReadSize) {
      const expected = bodySize - this.totalRequestBodyReadSize;
      this.receivedChunks++;
      const chunk = this.requestBody.bytes(this.totalRequestBodyReadSize, expected);
      const chunkSize = <u32>chunk.byteLength;
      log.info("read chunk size: " + chunkSize.toString());
      if (chunkSize != expected) {
        log.error("read data does not match the expected size: " + chunkSize.toString() + " != " + expected.toString());
      }
      this.totalRequestBodyReadSize += chunkSize;

      if (String.UTF8.decode(chunk).includes(PATTERN)) {
        const message = "pattern found in chunk: " + this.receivedChunks.toString();
        log.info(message);
        sendLocalResponse(403, message, [Header.of("powered-by", "proxy-wasm-as")]);
        log.info("local 403 response sent");
        return FilterDataStatus.StopIterationAndBuffer;
      }
    }

    // Keep the chunks seen so far: they are sent upstream together once the body is clean.
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;

    if (this.totalRequestBodyReadSize != bodySize) {
      log.error("read data does not match the expected total size: " + this.totalRequestBodyReadSize.toString() + " != " + bodySize.toString());
    }
    log.info("pattern not found");
    return FilterDataStatus.Continue;
  }
}

registerHttpFilter("", (contextId: u32, root: RootContext): HttpContext => new BodyChunkFilter(contextId, root));
