/**
 * The test kit's callout "upstream": it keeps the callouts the plugin made so the test can
 * answer or fail them. Answers are delivered when the test calls respond/fail (never re-entrantly).
 *
 * Bounded: a callout not settled yet is always kept, but of the settled ones (answered, failed,
 * cancelled) only the most recent `keepSettled` are, so a host that plays a million requests with
 * a callout each (a soak, a bench) holds a flat amount of memory and spends a flat amount per
 * callout, where keeping every one made each later `pendingHttp` slower.
 */
import { HeaderMap, type Callout, type CalloutUpstream, type GrpcCallout, type HeadersInit, type HttpCallout } from "../host";
import { toBytes, type BytesLike } from "../host/bytes";

export interface HttpCalloutAnswer {
  /** Shortcut for a `:status` header; default 200 unless `headers` has one. */
  readonly status?: number;
  readonly headers?: HeadersInit;
  readonly body?: BytesLike;
  readonly trailers?: HeadersInit;
}

/** An HTTP callout as the test sees it. */
export interface PendingHttpCallout {
  readonly token: number;
  readonly cluster: string;
  /** Request headers as [name, value] strings. */
  readonly headers: [string, string][];
  readonly body: string;
  readonly bodyBytes: Uint8Array;
  readonly trailers: [string, string][];
  readonly timeoutMs: number;
  /** Delivers the response to the plugin now. */
  respond(answer?: HttpCalloutAnswer): void;
  /** Delivers a failure (`0, 0, 0`, status 11 "reset"). */
  fail(): void;
}

/** Settled callouts a recorder keeps by default (see {@link CalloutRecorder}). */
export const DEFAULT_SETTLED_CALLOUTS_KEPT = 16;

export class CalloutRecorder implements CalloutUpstream {
  /**
   * The callouts made so far, oldest first: every one not settled yet and at least the
   * `keepSettled` most recently made settled ones. Older settled callouts are dropped in batches
   * (at a dispatch, once max(`keepSettled`, 16) more callouts were made since the last batch), so
   * at most `keepSettled` + max(`keepSettled`, 16) settled ones are here at any time.
   */
  readonly all: Callout[] = [];
  /** Callouts not settled when last looked at, oldest first: what `pending*` scan. */
  private readonly open: Callout[] = [];
  /** How many settled callouts `all` keeps. */
  readonly keepSettled: number;
  private pruneAt: number;
  private openPruneAt = 16;

  /** `keepSettled`: how many of the most recent settled callouts to keep (default 16; 0 keeps none). */
  constructor(options: { keepSettled?: number } = {}) {
    const keep = options.keepSettled ?? DEFAULT_SETTLED_CALLOUTS_KEPT;
    if (!Number.isInteger(keep) || keep < 0) throw new Error(`keepSettled must be a whole number >= 0, got ${keep}`);
    this.keepSettled = keep;
    this.pruneAt = keep + this.batch;
  }

  dispatch(callout: Callout): void {
    this.all.push(callout);
    this.open.push(callout);
    if (this.all.length >= this.pruneAt) this.prune();
    // A test that never asks what is pending must not make `open` keep every callout either.
    if (this.open.length >= this.openPruneAt) this.openPruneAt = 2 * this.stillOpen().length + 16;
  }

  /** HTTP callouts not answered yet, oldest first. */
  get pendingHttp(): PendingHttpCallout[] {
    return this.stillOpen().filter((c): c is HttpCallout => c.kind === "http").map(wrapHttp);
  }

  /** The HTTP callouts in `all` (every one not answered yet, and the most recent answered ones), oldest first. */
  get http(): PendingHttpCallout[] {
    return this.all.filter((c): c is HttpCallout => c.kind === "http").map(wrapHttp);
  }

  /** gRPC calls and streams not settled yet. */
  get pendingGrpc(): GrpcCallout[] {
    return this.stillOpen().filter((c): c is GrpcCallout => c.kind !== "http");
  }

  // Drops from `open` what settled since the last look; `open` only ever holds the few callouts
  // in flight, so this costs per pending callout, never per callout made.
  private stillOpen(): Callout[] {
    let kept = 0;
    for (const callout of this.open) if (!callout.settled) this.open[kept++] = callout;
    this.open.length = kept;
    return this.open;
  }

  // Dispatches between two prunes: at least 16, so that keeping none does not prune every time.
  private get batch(): number {
    return Math.max(this.keepSettled, 16);
  }

  // Keeps every unsettled callout and the `keepSettled` newest settled ones, in order. Runs once
  // per `batch` dispatches, so its cost per callout stays flat.
  private prune(): void {
    let settledKept = 0;
    const keep = new Array<boolean>(this.all.length);
    for (let i = this.all.length - 1; i >= 0; i--) {
      keep[i] = !this.all[i].settled || settledKept++ < this.keepSettled;
    }
    let kept = 0;
    for (let i = 0; i < this.all.length; i++) if (keep[i]) this.all[kept++] = this.all[i];
    this.all.length = kept;
    this.pruneAt = kept + this.batch;
  }
}

const utf8 = new TextDecoder();

function wrapHttp(callout: HttpCallout): PendingHttpCallout {
  return {
    token: callout.token,
    cluster: callout.cluster,
    headers: callout.headers.toArray(),
    body: callout.body.length === 0 ? "" : utf8.decode(callout.body),
    bodyBytes: callout.body,
    trailers: callout.trailers.toArray(),
    timeoutMs: callout.timeoutMs,
    respond(answer: HttpCalloutAnswer = {}) {
      const headers = HeaderMap.from(answer.headers);
      if (headers.get(":status") === undefined) {
        const withStatus = new HeaderMap();
        withStatus.add(":status", String(answer.status ?? 200));
        for (const [k, v] of headers.pairs()) withStatus.add(k, v);
        callout.respond({ headers: withStatus, body: toBytes(answer.body ?? ""), trailers: HeaderMap.from(answer.trailers) });
        return;
      }
      callout.respond({ headers, body: toBytes(answer.body ?? ""), trailers: HeaderMap.from(answer.trailers) });
    },
    fail() {
      callout.fail();
    },
  };
}
