import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A user name and password (or token) for a registry. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Where credentials were found, for the CLI to say so; `helper` means a helper we cannot run. */
export type CredentialSource = "flags" | "env" | "docker-config" | "none";

export const USERNAME_ENV = "PWAS_REGISTRY_USERNAME";
export const PASSWORD_ENV = "PWAS_REGISTRY_PASSWORD";
/** The registry (`host[:port]`) the two variables above are for; without it they are not used. */
export const REGISTRY_ENV = "PWAS_REGISTRY";

export interface CredentialLookup {
  credentials?: RegistryCredentials;
  source: CredentialSource;
  /** Set when docker config names a credential helper for this registry, which is not supported. */
  helperNote?: string;
  /** Set when the credential variables are set but not for this registry: why they were not used. */
  envNote?: string;
}

/**
 * Finds credentials for `registry` (as written in the image reference, e.g. `ghcr.io`,
 * `127.0.0.1:5000`, `docker.io`), first match wins: the explicit flags (both needed, and given
 * for this push), the `PWAS_REGISTRY_USERNAME`/`PWAS_REGISTRY_PASSWORD` variables when
 * `PWAS_REGISTRY` names this registry, then the `auths` entry for this registry in
 * `$DOCKER_CONFIG/config.json` or `$HOME/.docker/config.json`. Variables that are set but not for
 * this registry are skipped, and `envNote` says why: like docker's config, credentials are keyed
 * by the registry, so a push to another registry never gets them.
 *
 * @throws Error when only one of username and password is given, or the docker config is not JSON.
 */
export function findCredentials(registry: string, env: NodeJS.ProcessEnv, flags: { username?: string; password?: string } = {}): CredentialLookup {
  if (flags.username !== undefined || flags.password !== undefined) {
    if (flags.username === undefined || flags.password === undefined) throw new Error("give both --username and --password");
    return { credentials: { username: flags.username, password: flags.password }, source: "flags" };
  }
  const envUser = env[USERNAME_ENV];
  const envPassword = env[PASSWORD_ENV];
  if (envUser === undefined || envPassword === undefined) return fromDockerConfig(registry, env);
  const scope = env[REGISTRY_ENV];
  if (scope !== undefined && scope !== "" && registryKey(scope) === registryKey(registry)) {
    return { credentials: { username: envUser, password: envPassword }, source: "env" };
  }
  const envNote =
    scope === undefined || scope === ""
      ? `${USERNAME_ENV}/${PASSWORD_ENV} are not used: set ${REGISTRY_ENV} to the registry they are for (${REGISTRY_ENV}=${registry} for this push)`
      : `${USERNAME_ENV}/${PASSWORD_ENV} are not used: they are for ${scope} (${REGISTRY_ENV}), not ${registry}`;
  return { ...fromDockerConfig(registry, env), envNote };
}

// Docker Hub's names: the reference says docker.io, docker's config says https://index.docker.io/v1/.
const DOCKER_HUB_NAMES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/**
 * The registry a name stands for, for comparing: an `auths` key, a `PWAS_REGISTRY` value or a
 * reference's registry, reduced as docker reduces `auths` keys (docker/cli
 * cli/config/credentials/file_store.go `ConvertToHostname`: a URL's host and port, otherwise what
 * precedes the first `/`), lower-cased (host names are), Docker Hub's names as one.
 */
export function registryKey(name: string): string {
  let host = name.split("/")[0];
  if (name.includes("://")) {
    try {
      const url = new URL(name);
      if (url.hostname !== "") host = url.host;
    } catch {
      // Not a URL after all: keep what precedes the first `/`, as docker does.
    }
  }
  host = host.toLowerCase();
  return DOCKER_HUB_NAMES.has(host) ? "docker.io" : host;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

function fromDockerConfig(registry: string, env: NodeJS.ProcessEnv): CredentialLookup {
  const dir = env.DOCKER_CONFIG ?? (env.HOME ? join(env.HOME, ".docker") : undefined);
  const path = dir === undefined ? undefined : join(dir, "config.json");
  if (path === undefined || !existsSync(path)) return { source: "none" };
  let config: DockerConfig;
  try {
    config = JSON.parse(readFileSync(path, "utf8")) as DockerConfig;
  } catch (error) {
    throw new Error(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  // The entry whose key is this registry: docker looks the exact key up first, then compares
  // every key reduced to its host (docker/cli cli/config/credentials/file_store.go `Get`).
  const wanted = registryKey(registry);
  const auths = Object.entries(config.auths ?? {});
  const exact = auths.filter(([key]) => key === registry || (wanted === "docker.io" && key === "https://index.docker.io/v1/"));
  for (const [, entry] of [...exact, ...auths.filter(([key]) => registryKey(key) === wanted)]) {
    if (!entry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) return { credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }, source: "docker-config" };
    }
    if (entry.username !== undefined && entry.password !== undefined) {
      return { credentials: { username: entry.username, password: entry.password }, source: "docker-config" };
    }
  }
  const helper = config.credHelpers?.[registry] ?? config.credsStore;
  if (helper !== undefined) {
    return { source: "none", helperNote: `${path} uses the credential helper "docker-credential-${helper}", which push does not run; pass --username/--password, or ${USERNAME_ENV}/${PASSWORD_ENV} with ${REGISTRY_ENV}=${registry}` };
  }
  return { source: "none" };
}
