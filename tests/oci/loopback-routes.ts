/**
 * Lets a test speak of `https://registry.example.com` and `http://auth.evil.test` while the
 * bytes go to loopback servers: replaces the global `fetch` with one that maps each request's
 * origin to a loopback origin (as an /etc/hosts entry plus a TLS terminator would) and refuses
 * origins it was not told about. Push decides from the URLs it builds, so the names and schemes it
 * sees are the ones a real registry would give it.
 *
 * @returns a function that puts the real `fetch` back; call it in `finally`.
 */
export function routeOriginsToLoopback(routes: Record<string, string>): () => void {
  const real = globalThis.fetch;
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const target = routes[url.origin];
    if (target === undefined) return Promise.reject(new TypeError("fetch failed", { cause: new Error(`no route to ${url.origin} in this test`) }));
    return real(new URL(`${url.pathname}${url.search}`, target), init);
  };
  return () => {
    globalThis.fetch = real;
  };
}
