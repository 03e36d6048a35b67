import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildCompatImage, parseAuthChallenge, parseImageReference, pushImage, RegistryError } from "../../src/oci";
import { startFakeRegistry } from "./fake-registry";
import { TINY_FILTER } from "./fixture-wasm";

const image = buildCompatImage(TINY_FILTER);
const [config, layer] = image.blobs.map((b) => b.descriptor.digest);

describe("push over the OCI distribution API", () => {
  it("anonymous: GET /v2/, HEAD + POST + PUT per blob, manifest PUT, then the read-back", async () => {
    const registry = await startFakeRegistry();
    try {
      const result = await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1.0`)!, insecure: true });
      assert.equal(result.pinnedUrl, `oci://${registry.host}/acme/filter:1.0@${image.manifestDigest}`);
      assert.deepEqual(result.uploaded, [config, layer]);
      assert.deepEqual(
        registry.requests.map((r) => `${r.method} ${r.url}${r.contentType ? ` [${r.contentType}]` : ""}`),
        [
          "GET /v2/",
          `HEAD /v2/acme/filter/blobs/${config}`,
          "POST /v2/acme/filter/blobs/uploads/",
          `PUT /v2/acme/filter/blobs/uploads/u1?state=s1&digest=${encodeURIComponent(config)} [application/octet-stream]`,
          `HEAD /v2/acme/filter/blobs/${layer}`,
          "POST /v2/acme/filter/blobs/uploads/",
          `PUT /v2/acme/filter/blobs/uploads/u2?state=s2&digest=${encodeURIComponent(layer)} [application/octet-stream]`,
          "PUT /v2/acme/filter/manifests/1.0 [application/vnd.oci.image.manifest.v1+json]",
          "GET /v2/acme/filter/manifests/1.0",
          `GET /v2/acme/filter/blobs/${layer}`,
        ],
      );
      assert.deepEqual(registry.manifests.get("1.0")!.bytes, image.manifestBytes);
      assert.deepEqual(registry.blobs.get(layer), image.blobs[1].bytes);
      assert.deepEqual(registry.blobs.get(config), image.blobs[0].bytes);

      // A second push finds both blobs and uploads nothing.
      const again = await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1.0`)!, insecure: true });
      assert.deepEqual(again.uploaded, []);
      assert.deepEqual(again.skipped, [config, layer]);
    } finally {
      await registry.close();
    }
  });

  it("Bearer: fetches a token with Basic credentials and the push scope, then sends it on every request", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", username: "ci", password: "s3cret" } });
    try {
      await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:2`)!, insecure: true, credentials: { username: "ci", password: "s3cret" } });
      const [probe, token, ...rest] = registry.requests;
      assert.equal(probe.authorization, undefined);
      assert.equal(token.url, "/token?service=fake-registry&scope=repository%3Aacme%2Ffilter%3Apull%2Cpush");
      assert.equal(token.authorization, `Basic ${Buffer.from("ci:s3cret").toString("base64")}`);
      assert.equal(rest.length, 9);
      assert.ok(rest.every((r) => r.authorization === "Bearer tok-123"));
    } finally {
      await registry.close();
    }
  });

  it("Bearer with wrong credentials: the token endpoint's error is reported", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "bearer", username: "ci", password: "s3cret" } });
    try {
      await assert.rejects(
        pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:2`)!, insecure: true, credentials: { username: "ci", password: "nope" } }),
        { name: "RegistryError", message: "get token (http://" + registry.host + "/token): HTTP 401: UNAUTHORIZED: bad credentials" },
      );
    } finally {
      await registry.close();
    }
  });

  it("Basic without credentials fails before uploading anything", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "basic", username: "u", password: "p" } });
    try {
      await assert.rejects(pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true }), {
        message: `${registry.host} requires a user name and password (Basic auth); none found`,
      });
      assert.equal(registry.requests.length, 1);
    } finally {
      await registry.close();
    }
  });

  it("a 415 on the manifest surfaces the registry's error code and message", async () => {
    const registry = await startFakeRegistry({ refuseManifests: true });
    try {
      const error = await pushImage(image, { reference: parseImageReference(`${registry.host}/acme/filter:1`)!, insecure: true }).catch((e: unknown) => e);
      assert.ok(error instanceof RegistryError);
      assert.equal(error.status, 415);
      assert.equal(error.message, "push manifest 1: HTTP 415 (the registry refused the media type): MANIFEST_INVALID: manifest invalid: media type not allowed");
    } finally {
      await registry.close();
    }
  });
});

describe("references and challenges", () => {
  it("parses registry, repository, tag and digest like docker", () => {
    assert.deepEqual(parseImageReference("oci://127.0.0.1:5000/acme/f:1.0"), { registry: "127.0.0.1:5000", repository: "acme/f", tag: "1.0", digest: undefined });
    assert.deepEqual(parseImageReference("alpine"), { registry: "docker.io", repository: "library/alpine", tag: undefined, digest: undefined });
    assert.equal(parseImageReference("ghcr.io/Acme/f:1"), undefined);
    assert.equal(parseImageReference("ghcr.io/acme/f@sha256:abc"), undefined);
  });

  it("parses a Bearer challenge with quoted commas", () => {
    assert.deepEqual(parseAuthChallenge('Bearer realm="https://auth.io/token",service="reg",scope="repository:a/b:pull,push"'), {
      scheme: "bearer",
      params: { realm: "https://auth.io/token", service: "reg", scope: "repository:a/b:pull,push" },
    });
    assert.equal(parseAuthChallenge(null), undefined);
  });
});
