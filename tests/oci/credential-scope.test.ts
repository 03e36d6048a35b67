import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildCompatImage, parseImageReference, pushImage } from "../../src/oci";
import { isOnRegistrySite, refuseTokenRealm } from "../../src/oci/credential-scope";
import { startFakeRegistry, type RecordedRequest } from "./fake-registry";
import { TINY_FILTER } from "./fixture-wasm";
import { routeOriginsToLoopback } from "./loopback-routes";

// Where push's credentials and bearer token may go (docs/deploy.md, "Where credentials go"). Sources:
// - docker/distribution registry/client/auth/session.go: endpointAuthorizer.ModifyRequest attaches
//   Authorization only to requests whose scheme and host answered the /v2/ ping with a challenge.
// - oras-project/oras-go registry/remote/auth/client.go: credentials and cached tokens are keyed by
//   the registry's host:port (StaticCredential returns nothing for any other host); the realm named
//   by that host's challenge receives them.
// - containerd/containerd remotes/docker/pusher.go: an upload Location on another host or scheme
//   is PUT with the authorizer stripped ("upload changed destination, authorizer removed").
// - Go net/http client.go (all three) and the fetch spec drop Authorization on a redirect to
//   another domain / origin.

const image = buildCompatImage(TINY_FILTER);
const [config, layer] = image.blobs.map((b) => b.descriptor.digest);
const credentials = { username: "ci", password: "s3cret" };
const BASIC = `Basic ${Buffer.from("ci:s3cret").toString("base64")}`;
const BEARER = "Bearer tok-123";
const TOKEN_QUERY = "service=fake-registry&scope=repository%3Aacme%2Ffilter%3Apull%2Cpush";

/** `origin METHOD url Authorization` per request, `-` when none was sent. */
const lines = (requests: RecordedRequest[]) => requests.map((r) => `${r.origin} ${r.method} ${r.url} ${r.authorization ?? "-"}`);
const put = (digest: string, n: number) => `PUT /v2/acme/filter/blobs/uploads/u${n}?state=s${n}&digest=${encodeURIComponent(digest)}`;

describe("push credentials go only to the registry origin they were given for", () => {
  it("an upload Location on another origin gets the blob but no Authorization (Basic)", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "basic", ...credentials } });
    try {
      registry.divert.uploadOrigin = `http://${registry.otherHost}`;
      await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true, credentials });
      assert.deepEqual(lines(registry.requests), [
        "registry GET /v2/ -",
        `registry HEAD /v2/acme/filter/blobs/${config} ${BASIC}`,
        `registry POST /v2/acme/filter/blobs/uploads/ ${BASIC}`,
        `other ${put(config, 1)} -`,
        `registry HEAD /v2/acme/filter/blobs/${layer} ${BASIC}`,
        `registry POST /v2/acme/filter/blobs/uploads/ ${BASIC}`,
        `other ${put(layer, 2)} -`,
        `registry PUT /v2/acme/filter/manifests/1 ${BASIC}`,
        `registry GET /v2/acme/filter/manifests/1 ${BASIC}`,
        `registry GET /v2/acme/filter/blobs/${layer} ${BASIC}`,
      ]);
      assert.deepEqual(registry.blobs.get(layer), image.blobs[1].bytes);
    } finally {
      await registry.close();
    }
  });

  it("an upload Location on another origin gets no bearer token either", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", ...credentials } });
    try {
      registry.divert.uploadOrigin = `http://${registry.otherHost}`;
      await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true, credentials });
      assert.deepEqual(lines(registry.requests.filter((r) => r.origin === "other")), [`other ${put(config, 1)} -`, `other ${put(layer, 2)} -`]);
      const onRegistry = registry.requests.filter((r) => r.origin === "registry");
      assert.deepEqual(lines(onRegistry.slice(0, 2)), ["registry GET /v2/ -", `registry GET /token?${TOKEN_QUERY} ${BASIC}`]);
      assert.equal(onRegistry.length, 9);
      assert.deepEqual(new Set(onRegistry.slice(2).map((r) => r.authorization)), new Set([BEARER]));
    } finally {
      await registry.close();
    }
  });

  it("an upload PUT redirected (307) to another origin is re-sent there, body and all, without Authorization", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "basic", ...credentials } });
    try {
      registry.divert.uploadPutRedirectOrigin = `http://${registry.otherHost}`;
      await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true, credentials });
      assert.deepEqual(
        lines(registry.requests.filter((r) => r.method === "PUT" && r.url.includes("/uploads/"))),
        [`registry ${put(config, 1)} ${BASIC}`, `other ${put(config, 1)} -`, `registry ${put(layer, 2)} ${BASIC}`, `other ${put(layer, 2)} -`],
      );
      assert.deepEqual(registry.blobs.get(config), image.blobs[0].bytes);
    } finally {
      await registry.close();
    }
  });

  it("the read-back's blob redirect (307 to storage) carries no Authorization", async () => {
    // Passed before this change as well: Node's fetch already drops Authorization across origins.
    const registry = await startFakeRegistry({ auth: { kind: "basic", ...credentials } });
    try {
      registry.divert.blobRedirectOrigin = `http://${registry.otherHost}`;
      await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true, credentials });
      assert.deepEqual(lines(registry.requests.slice(-2)), [`registry GET /v2/acme/filter/blobs/${layer} ${BASIC}`, `other GET /v2/acme/filter/blobs/${layer} -`]);
    } finally {
      await registry.close();
    }
  });

  it("a token realm redirecting to another origin: that hop carries no credentials", async () => {
    // Passed before this change as well (Node's fetch drops Authorization across origins).
    const registry = await startFakeRegistry({ auth: { kind: "bearer", ...credentials } });
    try {
      registry.divert.tokenRedirectOrigin = `http://${registry.otherHost}`;
      await assert.rejects(pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true, credentials }), {
        message: `get token (http://${registry.host}/token): HTTP 401: UNAUTHORIZED: bad credentials`,
      });
      assert.deepEqual(lines(registry.requests), ["registry GET /v2/ -", `registry GET /token?${TOKEN_QUERY} ${BASIC}`, `other GET /token?${TOKEN_QUERY} -`]);
    } finally {
      await registry.close();
    }
  });

  it("a redirect loop ends after 10 hops with an error naming the step", async () => {
    const registry = await startFakeRegistry();
    try {
      registry.divert.blobRedirectOrigin = `http://${registry.host}`;
      const blobUrl = `http://${registry.host}/v2/acme/filter/blobs/${layer}`;
      await assert.rejects(pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true }), {
        message: `read back layer ${layer}: more than 10 redirects (last to ${blobUrl})`,
      });
      assert.equal(registry.requests.filter((r) => r.method === "GET" && r.url === `/v2/acme/filter/blobs/${layer}`).length, 11);
    } finally {
      await registry.close();
    }
  });

  it("a 401 challenge from another origin (where /v2/ redirected) is refused before any token request", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", ...credentials } });
    try {
      registry.divert.v2RedirectOrigin = `http://${registry.otherHost}`;
      await assert.rejects(pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true, credentials }), {
        message: `check registry (GET /v2/): the 401 came from http://${registry.otherHost}, not from the registry http://${registry.host}; push sends credentials only where the registry itself asks`,
      });
      assert.deepEqual(lines(registry.requests), ["registry GET /v2/ -", "other GET /v2/ -"]);
    } finally {
      await registry.close();
    }
  });

  it("--insecure lab registry: a token realm on the same host, another port, gets the credentials; the token goes only to the registry", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", ...credentials } });
    try {
      registry.divert.realm = `http://${registry.otherHost}/token`;
      await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true, credentials });
      assert.deepEqual(lines(registry.requests.filter((r) => r.origin === "other")), [`other GET /token?${TOKEN_QUERY} ${BASIC}`]);
      const onRegistry = registry.requests.filter((r) => r.origin === "registry");
      assert.equal(onRegistry.length, 10);
      assert.deepEqual(lines(onRegistry.slice(0, 1)), ["registry GET /v2/ -"]);
      assert.deepEqual(new Set(onRegistry.slice(1).map((r) => r.authorization)), new Set([BEARER]));
    } finally {
      await registry.close();
    }
  });
});

describe("token realms of an HTTPS registry (names routed to loopback)", () => {
  const push = (trustedRealmOrigins?: string[]) =>
    pushImage(image, { reference: parseImageReference("registry.example.com/acme/filter:1")!, credentials, trustedRealmOrigins });

  it("a realm on another site gets no request at all; the error says how to trust it", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", ...credentials } });
    const restore = routeOriginsToLoopback({ "https://registry.example.com": `http://${registry.host}`, "https://auth.evil.test": `http://${registry.otherHost}` });
    try {
      registry.divert.realm = "https://auth.evil.test/token";
      await assert.rejects(push(), {
        message:
          "get token: the token realm https://auth.evil.test is not on registry.example.com's site, so push does not send it the credentials given for https://registry.example.com (pass --trust-realm https://auth.evil.test to allow it)",
      });
      assert.deepEqual(lines(registry.requests), ["registry GET /v2/ -"]);
    } finally {
      restore();
      await registry.close();
    }
  });

  it("the same realm, trusted explicitly, gets the credentials; the token still goes only to the registry", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", ...credentials } });
    const restore = routeOriginsToLoopback({ "https://registry.example.com": `http://${registry.host}`, "https://auth.evil.test": `http://${registry.otherHost}` });
    try {
      registry.divert.realm = "https://auth.evil.test/token";
      const result = await push(["https://auth.evil.test"]);
      assert.equal(result.pinnedUrl, `oci://registry.example.com/acme/filter:1@${image.manifestDigest}`);
      assert.deepEqual(lines(registry.requests.filter((r) => r.origin === "other")), [`other GET /token?${TOKEN_QUERY} ${BASIC}`]);
      assert.deepEqual(new Set(registry.requests.filter((r) => r.origin === "registry").slice(1).map((r) => r.authorization)), new Set([BEARER]));
    } finally {
      restore();
      await registry.close();
    }
  });

  it("a realm on the registry's site (as auth.docker.io is for registry-1.docker.io) gets the credentials", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", ...credentials } });
    const restore = routeOriginsToLoopback({ "https://registry.example.com": `http://${registry.host}`, "https://auth.example.com": `http://${registry.otherHost}` });
    try {
      registry.divert.realm = "https://auth.example.com/token";
      await push();
      assert.deepEqual(lines(registry.requests.filter((r) => r.origin === "other")), [`other GET /token?${TOKEN_QUERY} ${BASIC}`]);
      assert.equal(registry.requests.filter((r) => r.authorization === BEARER && r.origin === "registry").length, 9);
    } finally {
      restore();
      await registry.close();
    }
  });

  it("a plain-HTTP realm for an HTTPS registry (a downgrade) is refused, even on the registry's own host", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", ...credentials } });
    const restore = routeOriginsToLoopback({ "https://registry.example.com": `http://${registry.host}`, "http://registry.example.com": `http://${registry.otherHost}` });
    try {
      registry.divert.realm = "http://registry.example.com/token";
      await assert.rejects(push(), {
        message: "get token: the registry is HTTPS but its token realm http://registry.example.com is plain HTTP; push does not fetch a token (nor send credentials) in clear text",
      });
      assert.deepEqual(lines(registry.requests), ["registry GET /v2/ -"]);
    } finally {
      restore();
      await registry.close();
    }
  });
});

describe("the rule itself", () => {
  it("a registry's site: the host, its parent domain for three labels or more, and names under it", () => {
    const cases: [string, string, boolean][] = [
      ["auth.docker.io", "registry-1.docker.io", true],
      ["gitlab.com", "registry.gitlab.com", true],
      ["ghcr.io", "ghcr.io", true],
      ["token.ghcr.io", "ghcr.io", true],
      ["auth.evil.test", "registry.example.com", false],
      ["docker.io.evil.test", "registry-1.docker.io", false],
      ["evildocker.io", "registry-1.docker.io", false],
      ["io", "ghcr.io", false],
      ["quay.io", "ghcr.io", false],
      ["127.0.0.1", "127.0.0.1", true],
      ["127.0.0.2", "127.0.0.1", false],
      ["0.0.1", "127.0.0.1", false],
      ["localhost", "127.0.0.1", false],
      ["[::1]", "[::1]", true],
      ["Auth.Docker.IO", "registry-1.docker.io", true],
    ];
    for (const [host, registry, expected] of cases) assert.equal(isOnRegistrySite(host, registry), expected, `${host} on ${registry}'s site`);
  });

  it("refuses a non-http realm, a downgrade, an off-site realm with credentials; trusts an explicitly named origin", () => {
    const https = new URL("https://registry.example.com");
    const http = new URL("http://127.0.0.1:5000");
    assert.equal(refuseTokenRealm(new URL("ftp://registry.example.com/token"), https, true), "the token realm ftp://registry.example.com/token is not an http(s) URL");
    assert.match(refuseTokenRealm(new URL("http://registry.example.com/token"), https, false) ?? "", /plain HTTP/);
    assert.equal(refuseTokenRealm(new URL("http://registry.example.com/token"), https, true, ["http://registry.example.com"]), undefined);
    assert.match(refuseTokenRealm(new URL("https://auth.evil.test/token"), https, true) ?? "", /not on registry\.example\.com's site/);
    // Without credentials there is nothing to leak: an anonymous token may come from anywhere on HTTPS.
    assert.equal(refuseTokenRealm(new URL("https://auth.evil.test/token"), https, false), undefined);
    assert.equal(refuseTokenRealm(new URL("https://auth.example.com/token"), https, true), undefined);
    assert.equal(refuseTokenRealm(new URL("http://127.0.0.1:5001/token"), http, true), undefined);
    assert.equal(refuseTokenRealm(new URL("https://127.0.0.1:5001/token"), http, true), undefined);
  });
});
