// Which registry push's credentials are for (docs/deploy.md, "Which registry credentials are for").
// Docker keys credentials by registry: docker/cli cli/config/credentials/file_store.go `Get` looks
// the exact `auths` key up, then compares every key reduced to its host and port
// (`ConvertToHostname`). The environment variables carry no host, so PWAS_REGISTRY names it.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { findCredentials, registryKey } from "../../src/oci";

const home = mkdtempSync(join(tmpdir(), "pwas-credentials-"));
after(() => rmSync(home, { recursive: true, force: true }));

/** A DOCKER_CONFIG directory holding `config`. */
function dockerConfig(name: string, config: object): string {
  const dir = join(home, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

const basic = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString("base64") });
const ENV_CREDENTIALS = { PWAS_REGISTRY_USERNAME: "ci", PWAS_REGISTRY_PASSWORD: "pw" };

describe("push credentials are keyed by registry", () => {
  it("the variables are used when PWAS_REGISTRY names the reference's registry (host and port, any case, or as a URL)", () => {
    for (const [scope, registry] of [
      ["ghcr.io", "ghcr.io"],
      ["GHCR.io", "ghcr.io"],
      ["https://ghcr.io/", "ghcr.io"],
      ["127.0.0.1:5000", "127.0.0.1:5000"],
      ["http://127.0.0.1:5000", "127.0.0.1:5000"],
      ["registry-1.docker.io", "docker.io"],
      ["https://index.docker.io/v1/", "docker.io"],
    ]) {
      assert.deepEqual(findCredentials(registry, { ...ENV_CREDENTIALS, PWAS_REGISTRY: scope }), { credentials: { username: "ci", password: "pw" }, source: "env" }, `${scope} for ${registry}`);
    }
  });

  it("the variables are not used for another registry, another port or a longer host, and the note says which registry they are for", () => {
    for (const [scope, registry] of [
      ["ghcr.io", "evil.example"],
      ["ghcr.io", "ghcr.io.evil.example"],
      ["ghcr.io", "ghrc.io"],
      ["127.0.0.1:5000", "127.0.0.1:5001"],
      ["127.0.0.1:5000", "127.0.0.1"],
      ["docker.io", "quay.io"],
    ]) {
      assert.deepEqual(
        findCredentials(registry, { ...ENV_CREDENTIALS, PWAS_REGISTRY: scope }),
        { source: "none", envNote: `PWAS_REGISTRY_USERNAME/PWAS_REGISTRY_PASSWORD are not used: they are for ${scope} (PWAS_REGISTRY), not ${registry}` },
        `${scope} for ${registry}`,
      );
    }
  });

  it("without PWAS_REGISTRY (unset or empty) the variables are not used, and the note says how to scope them", () => {
    for (const scope of [{}, { PWAS_REGISTRY: "" }]) {
      assert.deepEqual(findCredentials("ghcr.io", { ...ENV_CREDENTIALS, ...scope }), {
        source: "none",
        envNote: "PWAS_REGISTRY_USERNAME/PWAS_REGISTRY_PASSWORD are not used: set PWAS_REGISTRY to the registry they are for (PWAS_REGISTRY=ghcr.io for this push)",
      });
    }
  });

  it("skipped variables fall back to the docker config entry for the registry; flags win over both", () => {
    const DOCKER_CONFIG = dockerConfig("fallback", { auths: { "127.0.0.1:5001": basic("d", "cfg") } });
    const env = { ...ENV_CREDENTIALS, PWAS_REGISTRY: "ghcr.io", DOCKER_CONFIG };
    assert.deepEqual(findCredentials("127.0.0.1:5001", env), {
      credentials: { username: "d", password: "cfg" },
      source: "docker-config",
      envNote: "PWAS_REGISTRY_USERNAME/PWAS_REGISTRY_PASSWORD are not used: they are for ghcr.io (PWAS_REGISTRY), not 127.0.0.1:5001",
    });
    assert.deepEqual(findCredentials("127.0.0.1:5001", env, { username: "u", password: "p" }), { credentials: { username: "u", password: "p" }, source: "flags" });
  });

  it("docker config: the exact key first, then any key whose host and port are the registry's; never another host, a longer one or another port", () => {
    const DOCKER_CONFIG = dockerConfig("keys", {
      auths: {
        "https://ghcr.io.evil.example": basic("evil", "1"),
        "ghcr.io.evil.example": basic("evil", "2"),
        "https://ghcr.io/": basic("url", "3"),
        "localhost:5000": basic("five", "4"),
        "https://index.docker.io/v1/": basic("hub", "5"),
        "quay.io/v2/": { username: "quay", password: "6" },
        "lab:5000": basic("exact-lab", "7"),
        "http://lab:5000": basic("url-lab", "8"),
      },
    });
    const lookup = (registry: string) => findCredentials(registry, { DOCKER_CONFIG }).credentials;
    assert.deepEqual(lookup("ghcr.io"), { username: "url", password: "3" });
    assert.deepEqual(lookup("docker.io"), { username: "hub", password: "5" });
    assert.deepEqual(lookup("quay.io"), { username: "quay", password: "6" });
    assert.deepEqual(lookup("lab:5000"), { username: "exact-lab", password: "7" });
    assert.equal(lookup("localhost:5001"), undefined);
    assert.equal(lookup("localhost"), undefined);
    assert.equal(lookup("evil.example"), undefined);
    assert.equal(lookup("ghcr.io.evil"), undefined);
  });

  it("registryKey reduces a name as docker reduces auths keys", () => {
    assert.equal(registryKey("https://ghcr.io/v2/"), "ghcr.io");
    assert.equal(registryKey("http://127.0.0.1:5000"), "127.0.0.1:5000");
    assert.equal(registryKey("https://ghcr.io:443"), "ghcr.io");
    assert.equal(registryKey("quay.io/v1/"), "quay.io");
    assert.equal(registryKey("Registry-1.Docker.io"), "docker.io");
    // A key that does not parse as a URL is cut at its first `/`, which names no registry.
    assert.equal(registryKey("https://[::1"), "https:");
  });
});
