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
  // No filter: the chain's entry is the ends themselves (finish has nothing to do).
  if (factories.length === 0) return new EmptyChain(ends);
  return new FilterChain(factories, ends, info);
}

/** A chain without filters. */
class EmptyChain implements HttpFilterStream {
  constructor(private readonly ends: HttpFilterSink) {}
  requestHeaders(h: HeaderList, end: boolean): void {
    this.ends.requestHeaders(h, end);
  }
  requestBody(c: Buffer, end: boolean): void {
    this.ends.requestBody(c, end);
  }
  requestTrailers(t: HeaderList): void {
    this.ends.requestTrailers(t);
  }
  responseHeaders(h: HeaderList, end: boolean): void {
    this.ends.responseHeaders(h, end);
  }
  responseBody(c: Buffer, end: boolean): void {
    this.ends.responseBody(c, end);
  }
  responseTrailers(t: HeaderList): void {
    this.ends.responseTrailers(t);
  }
  finish(): void {}
}

/**
 * A chain of one or more filters. Classes rather than closures: a stream is built for every
 * request, and a link object per filter is all it allocates besides the filters themselves.
 */
class FilterChain implements HttpFilterStream {
  readonly filters: HttpFilterStream[];
  closed = false;

  constructor(
    factories: readonly HttpFilterFactory[],
    readonly ends: HttpFilterSink,
    info: HttpStreamInfo,
  ) {
    this.filters = new Array(factories.length);
    for (let i = 0; i < factories.length; i++) this.filters[i] = factories[i].createStream(new ChainLink(this, i), info);
  }

  // Once finished, events (a slow client's request body after the router's 504) reach no filter:
  // Envoy destroys a stream's filters when it ends (conn_manager_impl.cc `doEndStream`).
  requestHeaders(h: HeaderList, end: boolean): void {
    if (!this.closed) this.filters[0].requestHeaders(h, end);
  }
  requestBody(c: Buffer, end: boolean): void {
    if (!this.closed) this.filters[0].requestBody(c, end);
  }
  requestTrailers(t: HeaderList): void {
    if (!this.closed) this.filters[0].requestTrailers(t);
  }
  responseHeaders(h: HeaderList, end: boolean): void {
    if (!this.closed) this.filters[this.filters.length - 1].responseHeaders(h, end);
  }
  responseBody(c: Buffer, end: boolean): void {
    if (!this.closed) this.filters[this.filters.length - 1].responseBody(c, end);
  }
  responseTrailers(t: HeaderList): void {
    if (!this.closed) this.filters[this.filters.length - 1].responseTrailers(t);
  }
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    // Envoy destroys filters in chain order.
    for (const filter of this.filters) filter.finish();
  }

  /** Every filter from `from` down to 0 sees the reply as response events. */
  encodeLocalReply(from: number, reply: LocalReply): void {
    this.ends.noteLocalReply?.(reply);
    const target = this.filters[from] as HttpFilterStream | undefined;
    if (target === undefined) {
      this.ends.localReply(reply);
      return;
    }
    const headers = localReplyHeaders(reply);
    const hasBody = reply.body.length > 0;
    target.responseHeaders(headers, !hasBody);
    if (hasBody) target.responseBody(reply.body, true);
  }
}

/**
 * The sink of filter `index`: its request-side target is filter index+1 (or the upstream), its
 * response-side target filter index-1 (or the downstream). Nothing passes once the chain closed.
 */
class ChainLink implements HttpFilterSink {
  constructor(
    private readonly chain: FilterChain,
    private readonly index: number,
  ) {}

  private next(): HttpFilterStream | HttpFilterSink {
    return this.index + 1 < this.chain.filters.length ? this.chain.filters[this.index + 1] : this.chain.ends;
  }

  private previous(): HttpFilterStream | HttpFilterSink {
    return this.index > 0 ? this.chain.filters[this.index - 1] : this.chain.ends;
  }

  requestHeaders(h: HeaderList, end: boolean): void {
    if (!this.chain.closed) this.next().requestHeaders(h, end);
  }
  requestBody(c: Buffer, end: boolean): void {
    if (!this.chain.closed) this.next().requestBody(c, end);
  }
  requestTrailers(t: HeaderList): void {
    if (!this.chain.closed) this.next().requestTrailers(t);
  }
  responseHeaders(h: HeaderList, end: boolean): void {
    if (!this.chain.closed) this.previous().responseHeaders(h, end);
  }
  responseBody(c: Buffer, end: boolean): void {
    if (!this.chain.closed) this.previous().responseBody(c, end);
  }
  responseTrailers(t: HeaderList): void {
    if (!this.chain.closed) this.previous().responseTrailers(t);
  }
  localReply(reply: LocalReply): void {
    if (!this.chain.closed) this.chain.encodeLocalReply(this.index, reply);
  }
  reset(reason: string): void {
    if (!this.chain.closed) this.chain.ends.reset(reason);
  }
  flowControl(side: "request" | "response", paused: boolean): void {
    if (!this.chain.closed) this.chain.ends.flowControl?.(side, paused);
  }
}

/**
 * The headers Envoy puts on a local reply (envoy source/common/http/utility.cc
 * `prepareLocalReply`): `:status`, the filter's own headers, then for a non-empty body
 * `content-length` and `content-type: text/plain` unless the filter set one; an empty body removes
 * both (the HTTP/1 codec then writes `content-length: 0`). The test kit's driver makes the same
 * (src/host/drivers/http-stream.ts `localReplyResponse`).
 */
export function localReplyHeaders(reply: LocalReply): HeaderList {
  const headers: HeaderList = [[":status", String(reply.status)]];
  const length = String(reply.body.length);
  let hasLength = false;
  for (const [name, value] of reply.headers) {
    const lower = name.toLowerCase();
    if (lower.startsWith(":")) continue;
    if (reply.body.length === 0 && (lower === "content-length" || lower === "content-type")) continue;
    if (lower === "content-length") {
      // Set in place, once, as a header map sets an inline header.
      if (!hasLength) headers.push([lower, length]);
      hasLength = true;
      continue;
    }
    headers.push([lower, value]);
  }
  if (reply.body.length > 0) {
    if (!hasLength) headers.push(["content-length", length]);
    if (!headers.some(([name]) => name === "content-type")) headers.push(["content-type", "text/plain"]);
  }
  return headers;
}
