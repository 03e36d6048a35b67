/**
 * The test kit's stream handle keeps the headers that reached each side as UTF-8 decoded text,
 * which loses header values that are not UTF-8. This sink sits in front of the handle's own
 * recording sink and keeps the same headers and trailers as bytes, for the spec's `...Bytes`
 * accessors and its byte-string header lists.
 */
import type { HeaderMap } from "../../host";
import type { HttpStreamSink } from "../../host/drivers/http-stream";
import type { BytePair } from "../../host/pairs";

/** What reached one side, as bytes; null until headers (or trailers) did. */
export class ByteHeaderRecord {
  headers: BytePair[] | null = null;
  trailers: BytePair[] | null = null;
}

/** Forwards every call to `inner` after copying the header pairs into `up` / `down`. */
export class ByteHeaderTee implements HttpStreamSink {
  constructor(
    private readonly inner: HttpStreamSink,
    private readonly up: ByteHeaderRecord,
    private readonly down: ByteHeaderRecord,
  ) {}

  upstreamHeaders(headers: HeaderMap, endOfStream: boolean): void {
    this.up.headers = headers.pairs().slice();
    this.inner.upstreamHeaders(headers, endOfStream);
  }

  upstreamData(data: Uint8Array, endOfStream: boolean): void {
    this.inner.upstreamData(data, endOfStream);
  }

  upstreamTrailers(trailers: HeaderMap): void {
    this.up.trailers = trailers.pairs().slice();
    this.inner.upstreamTrailers(trailers);
  }

  downstreamHeaders(headers: HeaderMap, endOfStream: boolean): void {
    this.down.headers = headers.pairs().slice();
    this.inner.downstreamHeaders(headers, endOfStream);
  }

  downstreamData(data: Uint8Array, endOfStream: boolean): void {
    this.inner.downstreamData(data, endOfStream);
  }

  downstreamTrailers(trailers: HeaderMap): void {
    this.down.trailers = trailers.pairs().slice();
    this.inner.downstreamTrailers(trailers);
  }

  reset(details: string): void {
    this.inner.reset(details);
  }
}
