/**
 * One whole HTTP request played through a stream handle: the shape shared by `TestHost.flow` and
 * `PluginHandle.flow`.
 */
import type { HeadersInit } from "../host";
import { toBytes, type BytesLike } from "../host/bytes";
import type { HttpStreamHandle, SideRecord } from "./http-handle";

export interface FlowInput {
  readonly request: { readonly headers: HeadersInit; readonly body?: BytesLike; readonly trailers?: HeadersInit };
  /** The upstream's answer; default `:status 200` with no body. */
  readonly response?: { readonly headers?: HeadersInit; readonly body?: BytesLike; readonly trailers?: HeadersInit };
}

export interface FlowResult {
  /** What reached the upstream (headers null when the request never got there). */
  readonly upstream: SideRecord;
  /** What the client received. */
  readonly downstream: SideRecord;
  readonly localResponse: HttpStreamHandle["localResponse"];
  readonly stream: HttpStreamHandle;
}

/**
 * Request frames in, the upstream's response (only if the request reached the upstream and the
 * plugin neither answered locally nor reset the stream), then completion.
 */
export function playFlow(stream: HttpStreamHandle, input: FlowInput): FlowResult {
  const { request } = input;
  const requestBody = request.body === undefined ? undefined : toBytes(request.body);
  const hasBody = requestBody !== undefined && requestBody.length > 0;
  stream.requestHeaders(request.headers, { endOfStream: !hasBody && request.trailers === undefined });
  if (hasBody) stream.requestBody(requestBody, { endOfStream: request.trailers === undefined });
  if (request.trailers !== undefined) stream.requestTrailers(request.trailers);
  if (stream.localResponse === null && stream.resetDetails === null && stream.upstream.headers !== null) {
    const response = input.response ?? {};
    const body = response.body === undefined ? undefined : toBytes(response.body);
    const withBody = body !== undefined && body.length > 0;
    stream.responseHeaders(response.headers ?? { ":status": "200" }, { endOfStream: !withBody && response.trailers === undefined });
    if (withBody) stream.responseBody(body, { endOfStream: response.trailers === undefined });
    if (response.trailers !== undefined) stream.responseTrailers(response.trailers);
  }
  stream.complete();
  return { upstream: stream.upstream, downstream: stream.downstream, localResponse: stream.localResponse, stream };
}
