import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CompatImage, Descriptor, ImageManifest } from "./compat-image";
import { isSha256Digest, sha256Digest } from "./digest";
import { OCI_INDEX, OCI_MANIFEST } from "./media-types";
import { readTar, writeTar, type TarEntry } from "./tar";

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
export const CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name";

const OCI_LAYOUT_FILE = `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}`;

/** Every file of an OCI image layout, path -> bytes, in a fixed order. */
export function layoutFiles(image: CompatImage, tag?: ImageTag): { path: string; bytes: Buffer }[] {
  const manifestDescriptor: Descriptor = { mediaType: OCI_MANIFEST, digest: image.manifestDigest, size: image.manifestBytes.length };
  if (tag) {
    manifestDescriptor.annotations = { [CONTAINERD_NAME_ANNOTATION]: `${tag.name}:${tag.tag}`, [REF_NAME_ANNOTATION]: tag.tag };
  }
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [manifestDescriptor] };
  const blobs = [...image.blobs.map((blob) => ({ digest: blob.descriptor.digest, bytes: blob.bytes })), { digest: image.manifestDigest, bytes: image.manifestBytes }];
  blobs.sort((a, b) => (a.digest < b.digest ? -1 : 1));
  return [
    { path: "oci-layout", bytes: Buffer.from(OCI_LAYOUT_FILE) },
    { path: "index.json", bytes: Buffer.from(JSON.stringify(index)) },
    ...blobs.map((blob) => ({ path: `blobs/sha256/${blob.digest.slice("sha256:".length)}`, bytes: blob.bytes })),
  ];
}

/** A `name:tag` given to `package --tag`. */
export interface ImageTag {
  name: string;
  tag: string;
}

/** Parses `name:tag` (the tag defaults to `latest`); returns undefined for an invalid tag. */
export function parseImageTag(text: string): ImageTag | undefined {
  const slash = text.lastIndexOf("/");
  const colon = text.lastIndexOf(":");
  const name = colon > slash ? text.slice(0, colon) : text;
  const tag = colon > slash ? text.slice(colon + 1) : "latest";
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(name.replace(/^[^/]*[.:][^/]*\//, ""))) return undefined;
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) return undefined;
  return { name, tag };
}

/** Writes the layout into `dir` (created when missing; existing blobs are overwritten). */
export function writeImageLayout(dir: string, image: CompatImage, tag?: ImageTag): void {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  for (const file of layoutFiles(image, tag)) writeFileSync(join(dir, file.path), file.bytes);
}

/** The layout as one reproducible tar (what `docker load`/`skopeo copy oci-archive:` read). */
export function imageLayoutTar(image: CompatImage, tag?: ImageTag): Buffer {
  const entries: TarEntry[] = [{ name: "blobs/" }, { name: "blobs/sha256/" }];
  for (const file of layoutFiles(image, tag)) entries.push({ name: file.path, data: file.bytes });
  // oci-layout first, as tools that stream the archive expect.
  entries.sort((a, b) => order(a.name) - order(b.name));
  return writeTar(entries);
}

function order(name: string): number {
  return name === "oci-layout" ? 0 : name === "index.json" ? 1 : name.endsWith("/") ? 2 : 3;
}

/** An image read back from a layout directory, ready to push. */
export interface LayoutImage {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: string;
  blobs: { descriptor: Descriptor; bytes: Buffer }[];
}

/**
 * Reads the image of an OCI layout directory: the only manifest of `index.json`, or the one whose
 * ref name is `refName`. Every blob's digest and size is checked.
 *
 * @throws Error naming the missing or corrupt file.
 */
export function readImageLayout(dir: string, refName?: string): LayoutImage {
  return readLayout(dir, (path) => (existsSync(join(dir, path)) ? readFileSync(join(dir, path)) : undefined), refName);
}

/** True when `bytes` start like a tar archive (the ustar magic at offset 257). */
export function isTarArchive(bytes: Uint8Array): boolean {
  return bytes.length >= 512 && Buffer.from(bytes.subarray(257, 262)).toString("latin1") === "ustar";
}

/**
 * Reads the image of an OCI layout archive, such as `package -o image.tar` writes (and `docker
 * save`/`skopeo copy oci-archive:` read), with the same checks as {@link readImageLayout};
 * `where` names the archive in errors.
 */
export function readImageLayoutTar(archive: Uint8Array, where: string, refName?: string): LayoutImage {
  const files = new Map<string, Buffer>();
  for (const entry of readTar(archive)) if (entry.data !== undefined) files.set(entry.name.replace(/^\.\//, ""), Buffer.from(entry.data));
  return readLayout(where, (path) => files.get(path), refName);
}

function readLayout(where: string, read: (path: string) => Buffer | undefined, refName?: string): LayoutImage {
  if (read("oci-layout") === undefined) throw new Error(`${where} is not an OCI image layout (no oci-layout file)`);
  const indexBytes = read("index.json");
  if (indexBytes === undefined) throw new Error(`${where} is not an OCI image layout (no index.json)`);
  const index = JSON.parse(indexBytes.toString("utf8")) as { manifests?: Descriptor[] };
  const manifests = index.manifests ?? [];
  const chosen = refName === undefined ? manifests : manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === refName);
  if (chosen.length !== 1) {
    throw new Error(`${where}/index.json: expected exactly one manifest${refName === undefined ? "" : ` tagged ${refName}`}, found ${chosen.length}`);
  }
  const manifestBytes = readBlob(where, read, chosen[0]);
  const manifest = JSON.parse(manifestBytes.toString("utf8")) as ImageManifest;
  const blobs = [manifest.config, ...manifest.layers].map((descriptor) => ({ descriptor, bytes: readBlob(where, read, descriptor) }));
  return { manifest, manifestBytes, manifestDigest: chosen[0].digest, blobs };
}

function readBlob(where: string, read: (path: string) => Buffer | undefined, descriptor: Descriptor): Buffer {
  if (!isSha256Digest(descriptor.digest)) throw new Error(`unsupported digest ${descriptor.digest} (only sha256)`);
  const bytes = read(`blobs/sha256/${descriptor.digest.slice("sha256:".length)}`);
  if (bytes === undefined) throw new Error(`blob ${descriptor.digest} is missing from ${where}`);
  if (sha256Digest(bytes) !== descriptor.digest || bytes.length !== descriptor.size) {
    throw new Error(`blob ${descriptor.digest} in ${where} does not match its digest or size`);
  }
  return bytes;
}
