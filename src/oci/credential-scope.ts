/**
 * Where push may send the user's registry credentials, and the bearer token they buy.
 *
 * The rule (docs/deploy.md, "Where credentials go", has it with sources). Docker, containerd and
 * oras-go bind Authorization to the registry origin as we do; for the token realm we are stricter
 * than they are, as go-containerregistry's proposed fix is (realm bound to the registry's domain):
 * - The credentials are for one origin: the scheme, host and port of the registry the user named.
 *   Only requests to that origin carry `Authorization` (Basic credentials or the bearer token).
 *   An upload `Location` or a redirect to any other origin gets no `Authorization` at all
 *   (`registry-http.ts` enforces this on every hop).
 * - The only other place Basic credentials go is the token realm named in the registry's own
 *   `GET /v2/` challenge, and only when that realm is on the registry's site (see `isOnRegistrySite`)
 *   or an origin the user trusted explicitly, and never over plain HTTP when the registry is HTTPS.
 * - The bearer token the realm returns is sent to the registry origin only, never back to the realm
 *   nor anywhere else.
 */

/**
 * True when `host` belongs to the registry host's site: the same host, or (for a DNS name of three
 * labels or more) its parent domain or any name under it, or (for a two-label name) any name under
 * the registry host. So `registry-1.docker.io` reaches `auth.docker.io`, `registry.gitlab.com`
 * reaches `gitlab.com`, `ghcr.io` reaches only `ghcr.io` and its subdomains. IP addresses and
 * single-label names (`localhost`) match only themselves; ports are not compared.
 *
 * Without a public-suffix list a shared registry domain (`a.azurecr.io` and `b.azurecr.io`) counts as
 * one site; the realm is still named by the registry itself, over TLS.
 */
export function isOnRegistrySite(host: string, registryHost: string): boolean {
  const candidate = host.toLowerCase();
  const registry = registryHost.toLowerCase();
  if (candidate === registry) return true;
  if (isIpOrSingleLabel(registry) || isIpOrSingleLabel(candidate)) return false;
  const labels = registry.split(".");
  const site = labels.length >= 3 ? labels.slice(1).join(".") : registry;
  return candidate === site || candidate.endsWith(`.${site}`);
}

function isIpOrSingleLabel(host: string): boolean {
  return !host.includes(".") || host.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Decides whether push may ask `realm` for a token, sending the user's Basic credentials when it has
 * some. Checked before any request reaches the realm.
 *
 * @param realm the `realm` parameter of the registry's `GET /v2/` Bearer challenge.
 * @param registryUrl the registry's base URL (its origin is what the credentials are for).
 * @param withCredentials whether push holds credentials; without them only the downgrade matters.
 * @param trustedRealmOrigins origins the user allowed explicitly (`--trust-realm`).
 * @returns undefined when allowed; otherwise the reason, for the error message.
 */
export function refuseTokenRealm(realm: URL, registryUrl: URL, withCredentials: boolean, trustedRealmOrigins: readonly string[] = []): string | undefined {
  if (realm.protocol !== "https:" && realm.protocol !== "http:") return `the token realm ${realm.href} is not an http(s) URL`;
  if (trustedRealmOrigins.includes(realm.origin)) return undefined;
  if (registryUrl.protocol === "https:" && realm.protocol === "http:") {
    return `the registry is HTTPS but its token realm ${realm.origin} is plain HTTP; push does not fetch a token (nor send credentials) in clear text`;
  }
  if (withCredentials && !isOnRegistrySite(realm.hostname, registryUrl.hostname)) {
    return `the token realm ${realm.origin} is not on ${registryUrl.hostname}'s site, so push does not send it the credentials given for ${registryUrl.origin} (pass --trust-realm ${realm.origin} to allow it)`;
  }
  return undefined;
}
