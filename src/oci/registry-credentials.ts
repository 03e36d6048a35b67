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

export interface CredentialLookup {
  credentials?: RegistryCredentials;
  source: CredentialSource;
  /** Set when docker config names a credential helper for this registry, which is not supported. */
  helperNote?: string;
}

/**
 * Finds credentials for `registry`, first match wins: the explicit flags (both needed), the
 * `PWAS_REGISTRY_USERNAME`/`PWAS_REGISTRY_PASSWORD` variables, then `auths` in
 * `$DOCKER_CONFIG/config.json` or `$HOME/.docker/config.json`.
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
  if (envUser !== undefined && envPassword !== undefined) return { credentials: { username: envUser, password: envPassword }, source: "env" };
  return fromDockerConfig(registry, env);
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
  const keys = registry === "docker.io" ? ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"] : [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
  for (const key of keys) {
    const entry = config.auths?.[key];
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
    return { source: "none", helperNote: `${path} uses the credential helper "docker-credential-${helper}", which push does not run; pass --username/--password or ${USERNAME_ENV}/${PASSWORD_ENV}` };
  }
  return { source: "none" };
}
