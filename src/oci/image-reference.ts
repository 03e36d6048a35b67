/** A parsed `registry/repository[:tag][@digest]` image reference. */
export interface ImageReference {
  /** Host and optional port, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  registry: string;
  /** Repository path in the registry, e.g. `acme/add-header`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = "docker.io";

/**
 * Parses an image reference as docker does: the first path component is a registry when it
 * contains `.` or `:` or is `localhost`; otherwise the registry is Docker Hub (and one-component
 * names get `library/`). An `oci://` prefix is accepted and dropped.
 *
 * @returns undefined when the text is not a valid reference.
 */
export function parseImageReference(text: string): ImageReference | undefined {
  let rest = text.replace(/^oci:\/\//, "");
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) return undefined;
  }
  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost")) registry = parts.shift()!;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
  if (parts.length === 0 || !parts.every((part) => component.test(part))) return undefined;
  return { registry, repository: parts.join("/"), tag, digest };
}

/** `registry/repository[:tag]`, without any digest. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? "" : `:${ref.tag}`}`;
}

/** The API host for a registry name: Docker Hub's API lives at registry-1.docker.io. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}
