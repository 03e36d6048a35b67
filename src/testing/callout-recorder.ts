/**
 * The test kit's callout "upstream": it keeps every callout the plugin made so the test can
 * answer or fail it. Answers are delivered when the test calls respond/fail (never re-entrantly).
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

export class CalloutRecorder implements CalloutUpstream {
  /** Every callout made so far, answered or not. */
  readonly all: Callout[] = [];

  dispatch(callout: Callout): void {
    this.all.push(callout);
  }

  /** HTTP callouts not answered yet, oldest first. */
  get pendingHttp(): PendingHttpCallout[] {
    return this.all.filter((c): c is HttpCallout => c.kind === "http" && !c.settled).map(wrapHttp);
  }

  /** Every HTTP callout made so far. */
  get http(): PendingHttpCallout[] {
    return this.all.filter((c): c is HttpCallout => c.kind === "http").map(wrapHttp);
  }

  /** gRPC calls and streams not settled yet. */
  get pendingGrpc(): GrpcCallout[] {
    return this.all.filter((c): c is GrpcCallout => c.kind !== "http" && !c.settled);
  }
}

function wrapHttp(callout: HttpCallout): PendingHttpCallout {
  return {
    token: callout.token,
    cluster: callout.cluster,
    headers: callout.headers.toArray(),
    body: new TextDecoder().decode(callout.body),
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
