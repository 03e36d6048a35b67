import { gzipSync } from "node:zlib";
import { sha256Digest } from "./digest";
import { COMPAT_VARIANT_ANNOTATION, CONFIG_SCHEMA_FILE_NAME, OCI_CONFIG, OCI_LAYER_TAR_GZIP, OCI_MANIFEST, PLUGIN_FILE_NAME, TITLE_ANNOTATION } from "./media-types";
import { writeTar } from "./tar";

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** The image manifest as pushed; its exact serialised bytes are in `CompatImage.manifestBytes`. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** A built image: every blob by digest, and the manifest with its digest. */
export interface CompatImage {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  /** sha256 of `manifestBytes`: what Istio `sha256`, Envoy Gateway `image.sha256` and `@sha256:` pins mean. */
  manifestDigest: string;
  /** Config first, then layers, as the manifest lists them. */
  blobs: { descriptor: Descriptor; bytes: Buffer }[];
  /** sha256 of the module itself: what `http`/`file` code sources need. */
  wasmDigest: string;
}

export interface CompatImageOptions {
  /** Extra manifest annotations (e.g. `org.opencontainers.image.source`); they win over the defaults. */
  annotations?: Record<string, string>;
  /** Optional `runtime-config.json` placed after `plugin.wasm` in the layer. */
  runtimeConfig?: Uint8Array;
  /**
   * The module's configuration schema when the build wrote it beside the module rather than into
   * its custom section: placed as `plugin.schema.json` in a layer of its own, before the module's.
   */
  configSchema?: Uint8Array;
}

/**
 * Builds the "compat" Wasm image (deployment doc §4.4) in memory: a gzip tar layer holding
 * `plugin.wasm`, an OCI image config, and a manifest annotated `module.wasm.image/variant:
 * compat`. Output depends only on the inputs: fixed mtimes, gzip mtime 0, no `created` field,
 * and JSON written with a fixed key order.
 *
 * With `configSchema`, a second ordinary tar+gzip layer holding only `plugin.schema.json` comes
 * first and the module's layer stays last, byte for byte the layer built without it. Istio's
 * agent and Envoy Gateway's controller take the last layer, require a tar+gzip media type and
 * pick the member named `plugin.wasm` (istio pkg/wasm/imagefetcher.go, extractOCIStandardImage
 * and extractDockerImage; Envoy Gateway's internal/wasm/imagefetcher.go is the same code), so the
 * layer before it is never read. It is an ordinary filesystem layer, not a custom media type,
 * because some registries refuse custom types and docker/podman cannot pull them (deployment doc
 * §4.3); pulled by docker, the image's filesystem holds both files side by side.
 */
export function buildCompatImage(wasm: Uint8Array, options: CompatImageOptions = {}): CompatImage {
  const entries = [{ name: PLUGIN_FILE_NAME, data: wasm }];
  if (options.runtimeConfig) entries.push({ name: "runtime-config.json", data: options.runtimeConfig });
  const wasmLayer = tarGzipLayer(writeTar(entries));
  const layers = options.configSchema ? [tarGzipLayer(writeTar([{ name: CONFIG_SCHEMA_FILE_NAME, data: options.configSchema }]), CONFIG_SCHEMA_FILE_NAME), wasmLayer] : [wasmLayer];

  // amd64/linux is what `docker build FROM scratch` records; pullers ignore it, and docker/podman
  // pull the image without a platform warning.
  const config = { architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) } };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDescriptor: Descriptor = { mediaType: OCI_CONFIG, digest: sha256Digest(configBytes), size: configBytes.length };

  const annotations = sortedRecord({ [COMPAT_VARIANT_ANNOTATION]: "compat", ...options.annotations });
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: layers.map((layer) => layer.descriptor), annotations };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest,
    manifestBytes,
    manifestDigest: sha256Digest(manifestBytes),
    blobs: [{ descriptor: configDescriptor, bytes: configBytes }, ...layers.map((layer) => ({ descriptor: layer.descriptor, bytes: layer.bytes }))],
    wasmDigest: sha256Digest(wasm),
  };
}

/** A gzip layer of `tar`; `title` names the one file it holds (left out on the module's layer, as docker writes it). */
function tarGzipLayer(tar: Buffer, title?: string): { descriptor: Descriptor; bytes: Buffer; diffId: string } {
  // Node's gzip header has mtime 0 and no file name, so equal input gives equal bytes.
  const bytes = gzipSync(tar, { level: 9 });
  const descriptor: Descriptor = { mediaType: OCI_LAYER_TAR_GZIP, digest: sha256Digest(bytes), size: bytes.length };
  if (title !== undefined) descriptor.annotations = { [TITLE_ANNOTATION]: title };
  return { descriptor, bytes, diffId: sha256Digest(tar) };
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
