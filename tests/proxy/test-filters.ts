import type { HeaderList } from "../../src/proxy/header-list";
import type { HttpFilterFactory, HttpFilterSink, HttpFilterStream, LocalReply } from "../../src/proxy/filters/http-filter";

/** A filter event as a test records it. */
export type FilterEvent =
  | { kind: "requestHeaders" | "responseHeaders"; headers: HeaderList; endOfStream: boolean }
  | { kind: "requestBody" | "responseBody"; chunk: string; endOfStream: boolean }
  | { kind: "requestTrailers" | "responseTrailers"; trailers: HeaderList }
  | { kind: "finish" };

/** Passes everything through and records it; `hooks` may change or stop events. */
export function recordingFilter(
  events: FilterEvent[],
  hooks: Partial<{
    requestHeaders(headers: HeaderList, sink: HttpFilterSink): HeaderList | null;
    responseHeaders(headers: HeaderList): HeaderList;
    requestBody(chunk: Buffer): Buffer;
  }> = {},
): HttpFilterFactory {
  return {
    name: "recording",
    createStream(sink: HttpFilterSink): HttpFilterStream {
      return {
        requestHeaders(headers, endOfStream) {
          events.push({ kind: "requestHeaders", headers, endOfStream });
          const out = hooks.requestHeaders ? hooks.requestHeaders(headers, sink) : headers;
          if (out !== null) sink.requestHeaders(out, endOfStream);
        },
        requestBody(chunk, endOfStream) {
          events.push({ kind: "requestBody", chunk: chunk.toString(), endOfStream });
          sink.requestBody(hooks.requestBody ? hooks.requestBody(chunk) : chunk, endOfStream);
        },
        requestTrailers(trailers) {
          events.push({ kind: "requestTrailers", trailers });
          sink.requestTrailers(trailers);
        },
        responseHeaders(headers, endOfStream) {
          events.push({ kind: "responseHeaders", headers, endOfStream });
          sink.responseHeaders(hooks.responseHeaders ? hooks.responseHeaders(headers) : headers, endOfStream);
        },
        responseBody(chunk, endOfStream) {
          events.push({ kind: "responseBody", chunk: chunk.toString(), endOfStream });
          sink.responseBody(chunk, endOfStream);
        },
        responseTrailers(trailers) {
          events.push({ kind: "responseTrailers", trailers });
          sink.responseTrailers(trailers);
        },
        finish() {
          events.push({ kind: "finish" });
        },
      };
    },
  };
}

/** Answers every request locally with `reply` from its request-headers callback. */
export function localReplyFilter(reply: LocalReply, events: FilterEvent[] = []): HttpFilterFactory {
  return recordingFilter(events, {
    requestHeaders(_headers, sink) {
      sink.localReply(reply);
      return null;
    },
  });
}
