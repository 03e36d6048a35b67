import { gzipSync } from "node:zlib";
import { sha256Digest } from "./digest";
import { COMPAT_VARIANT_ANNOTATION, OCI_CONFIG, OCI_LAYER_TAR_GZIP, OCI_MANIFEST, PLUGIN_FILE_NAME } from "./media-types";
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
}

/**
 * Builds the "compat" Wasm image (deployment doc §4.4) in memory: one gzip tar layer holding
 * `plugin.wasm`, an OCI image config, and a manifest annotated `module.wasm.image/variant:
 * compat`. Output depends only on the inputs: fixed mtimes, gzip mtime 0, no `created` field,
 * and JSON written with a fixed key order.
 */
export function buildCompatImage(wasm: Uint8Array, options: CompatImageOptions = {}): CompatImage {
  const entries = [{ name: PLUGIN_FILE_NAME, data: wasm }];
  if (options.runtimeConfig) entries.push({ name: "runtime-config.json", data: options.runtimeConfig });
  const tar = writeTar(entries);
  // Node's gzip header has mtime 0 and no file name, so equal input gives equal bytes.
  const layerBytes = gzipSync(tar, { level: 9 });
  const layer: Descriptor = { mediaType: OCI_LAYER_TAR_GZIP, digest: sha256Digest(layerBytes), size: layerBytes.length };

  // amd64/linux is what `docker build FROM scratch` records; pullers ignore it, and docker/podman
  // pull the image without a platform warning.
  const config = { architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] } };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDescriptor: Descriptor = { mediaType: OCI_CONFIG, digest: sha256Digest(configBytes), size: configBytes.length };

  const annotations = sortedRecord({ [COMPAT_VARIANT_ANNOTATION]: "compat", ...options.annotations });
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: [layer], annotations };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest,
    manifestBytes,
    manifestDigest: sha256Digest(manifestBytes),
    blobs: [
      { descriptor: configDescriptor, bytes: configBytes },
      { descriptor: layer, bytes: layerBytes },
    ],
    wasmDigest: sha256Digest(wasm),
  };
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
