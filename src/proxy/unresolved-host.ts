/** Error codes of a host name that did not resolve (getaddrinfo), as Node reports them. */
const UNRESOLVED = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_NODATA"]);

/**
 * True when a connection failed because the cluster's host name did not resolve. In Envoy a DNS
 * cluster whose name does not resolve has no hosts, so requests get `503 no healthy upstream`
 * rather than a connection failure (envoy source/common/router/router.cc, `onNoHealthyHost`).
 */
export function isUnresolvedHost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && UNRESOLVED.has(code)) return true;
  // node:http2 cancels a session's pending streams with the connection's error as `cause`.
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error && isUnresolvedHost(cause);
}

/** Envoy's body for a request to a cluster without a usable host. */
export const NO_HEALTHY_UPSTREAM_BODY = "no healthy upstream";
