/** An `Authorization` header and the one origin it may be sent to. */
export interface ScopedAuthorization {
  header: string;
  origin: string;
}

export interface ExchangeInit {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Attached to each hop whose origin is `authorization.origin`, and to no other. */
  authorization?: ScopedAuthorization;
}

/** The final response and the URL that answered it (after any redirects). */
export interface Exchange {
  response: Response;
  url: URL;
}

/** As Go's http.Client (docker, containerd, oras-go); fetch allows 20. */
export const MAX_REDIRECTS = 10;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * One HTTP exchange with a registry, its token realm, or a host either points to. Redirects are
 * followed here rather than by fetch so that the rule of `credential-scope.ts` holds on every hop:
 * `Authorization` goes only to the origin it was given for, so a redirect to blob storage, a CDN or
 * any other origin carries none (the fetch spec and Go's http.Client drop it too). The method and
 * body change as fetch changes them: 303 becomes GET (HEAD stays), 301/302 turn a POST into a GET.
 *
 * @throws Error `<step>: cannot reach <origin>: …` when a hop fails at the network level, and
 *   `<step>: more than 10 redirects` when the chain does not end.
 */
export async function exchange(method: string, url: URL, step: string, init: ExchangeInit = {}): Promise<Exchange> {
  let hop = url;
  let hopMethod = method;
  let body = init.body;
  for (let redirects = 0; ; redirects++) {
    const headers: Record<string, string> = { ...init.headers };
    if (init.authorization && hop.origin === init.authorization.origin) headers.authorization = init.authorization.header;
    if (body === undefined) {
      delete headers["content-type"];
      delete headers["content-length"];
    }
    let response: Response;
    try {
      response = await fetch(hop, { method: hopMethod, headers, body: body === undefined ? undefined : new Uint8Array(body), redirect: "manual" });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause;
      // The cause is kept: its code tells a caller why (ERR_SSL_WRONG_VERSION_NUMBER: plain HTTP on the other end).
      throw new Error(`${step}: cannot reach ${hop.origin}: ${cause?.message ?? (error as Error).message}`, { cause: cause ?? error });
    }
    const location = response.headers.get("location");
    if (!REDIRECT_STATUSES.has(response.status) || location === null) return { response, url: hop };
    await response.body?.cancel();
    if (redirects === MAX_REDIRECTS) throw new Error(`${step}: more than ${MAX_REDIRECTS} redirects (last to ${location})`);
    hop = new URL(location, hop);
    if ((response.status === 303 && hopMethod !== "HEAD") || ((response.status === 301 || response.status === 302) && hopMethod === "POST")) {
      hopMethod = "GET";
      body = undefined;
    }
  }
}
