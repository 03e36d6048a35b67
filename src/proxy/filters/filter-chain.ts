import type { HeaderList } from "../header-list";
import type {
  HttpFilterFactory,
  HttpFilterSink,
  HttpFilterStream,
  HttpStreamInfo,
  LocalReply,
} from "./http-filter";

/**
 * Links the filters of one stream into a chain, as Envoy's filter manager does: request events
 * run filters first to last, then reach `ends.requestHeaders/...` (the upstream); response
 * events run filters last to first, then reach `ends.responseHeaders/...` (the downstream).
 *
 * A local reply from filter i is encoded through filters i..0 (Envoy passes a local reply
 * through the encoder chain, so the replying plugin's response callbacks run too, ABI §5.7).
 * Returns the entry point for downstream/upstream events plus `finish`, which finishes every
 * filter once.
 */
export function buildFilterChain(
  factories: readonly HttpFilterFactory[],
  ends: HttpFilterSink,
  info: HttpStreamInfo,
): HttpFilterStream {
  const filters: HttpFilterStream[] = new Array(factories.length);
  let closed = false;

  // The request-side target of filter i is filter i+1 (or the upstream); the response-side
  // target is filter i-1 (or the downstream).
  const sinkFor = (index: number): HttpFilterSink => {
    const next = (): HttpFilterStream | HttpFilterSink => (index + 1 < filters.length ? filters[index + 1] : ends);
    const previous = (): HttpFilterStream | HttpFilterSink => (index > 0 ? filters[index - 1] : ends);
    return {
      requestHeaders: (h, end) => !closed && next().requestHeaders(h, end),
      requestBody: (c, end) => !closed && next().requestBody(c, end),
      requestTrailers: (t) => !closed && next().requestTrailers(t),
      responseHeaders: (h, end) => !closed && previous().responseHeaders(h, end),
      responseBody: (c, end) => !closed && previous().responseBody(c, end),
      responseTrailers: (t) => !closed && previous().responseTrailers(t),
      localReply: (reply) => !closed && encodeLocalReply(index, reply),
      reset: (reason) => !closed && ends.reset(reason),
    };
  };

  // Every filter from `from` down to 0 sees the reply as response events.
  const encodeLocalReply = (from: number, reply: LocalReply): void => {
    const target = filters[from] as HttpFilterStream | undefined;
    if (target === undefined) {
      ends.localReply(reply);
      return;
    }
    const headers = localReplyHeaders(reply);
    const hasBody = reply.body.length > 0;
    target.responseHeaders(headers, !hasBody);
    if (hasBody) target.responseBody(reply.body, true);
  };

  for (let i = 0; i < factories.length; i++) filters[i] = factories[i].createStream(sinkFor(i), info);
  const first = (): HttpFilterStream | HttpFilterSink => (filters.length > 0 ? filters[0] : ends);
  const last = (): HttpFilterStream | HttpFilterSink => (filters.length > 0 ? filters[filters.length - 1] : ends);

  return {
    requestHeaders: (h, end) => first().requestHeaders(h, end),
    requestBody: (c, end) => first().requestBody(c, end),
    requestTrailers: (t) => first().requestTrailers(t),
    responseHeaders: (h, end) => last().responseHeaders(h, end),
    responseBody: (c, end) => last().responseBody(c, end),
    responseTrailers: (t) => last().responseTrailers(t),
    finish: () => {
      if (closed) return;
      closed = true;
      // Envoy destroys filters in chain order.
      for (const filter of filters) filter.finish();
    },
  };
}

/**
 * The headers Envoy puts on a local reply: `:status`, the filter's own headers, and for a
 * non-empty body `content-length` and `content-type: text/plain` unless the filter set one.
 */
export function localReplyHeaders(reply: LocalReply): HeaderList {
  const headers: HeaderList = [[":status", String(reply.status)]];
  for (const [name, value] of reply.headers) if (!name.startsWith(":")) headers.push([name.toLowerCase(), value]);
  if (reply.body.length > 0) {
    if (!headers.some(([name]) => name === "content-type")) headers.push(["content-type", "text/plain"]);
  }
  if (!headers.some(([name]) => name === "content-length")) headers.push(["content-length", String(reply.body.length)]);
  return headers;
}
