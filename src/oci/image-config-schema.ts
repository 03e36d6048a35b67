import { gunzipSync } from "node:zlib";
import type { Descriptor } from "./compat-image";
import { COMPAT_LAYER_TYPES, CONFIG_SCHEMA_FILE_NAME } from "./media-types";
import { readTar } from "./tar";

/** An image as read from a layout or a registry: its manifest's layers and their blobs by digest. */
export interface ImageContents {
  manifest: { layers: Descriptor[] };
  blobs: { descriptor: Descriptor; bytes: Uint8Array }[];
}

/**
 * The module's layer: the last one, the only layer Istio's agent and Envoy Gateway read (istio
 * pkg/wasm/imagefetcher.go takes `layers[len(layers)-1]`). Undefined when the image has no layers
 * or that blob is missing.
 */
export function moduleLayer(image: ImageContents): Uint8Array | undefined {
  const last = image.manifest.layers[image.manifest.layers.length - 1];
  return last === undefined ? undefined : image.blobs.find((blob) => blob.descriptor.digest === last.digest)?.bytes;
}

/**
 * The `plugin.schema.json` an image carries beside its module (`package` puts it in a tar+gzip
 * layer before the module's), or undefined when no layer before the last holds one. Layers are
 * read as a container filesystem is stacked: a later layer's file wins. Layers of other media
 * types are skipped, as pullers skip them.
 *
 * @throws Error naming the layer when a tar+gzip layer is not gzip.
 */
export function configSchemaFromImage(image: ImageContents): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  for (const descriptor of image.manifest.layers.slice(0, -1)) {
    if (!COMPAT_LAYER_TYPES.includes(descriptor.mediaType)) continue;
    const blob = image.blobs.find((candidate) => candidate.descriptor.digest === descriptor.digest);
    if (blob === undefined) continue;
    let tar: Buffer;
    try {
      tar = gunzipSync(blob.bytes);
    } catch (error) {
      throw new Error(`layer ${descriptor.digest} is not gzip: ${(error as Error).message}`);
    }
    for (const entry of readTar(tar)) {
      if (entry.data !== undefined && entry.name.split("/").pop() === CONFIG_SCHEMA_FILE_NAME) found = entry.data;
    }
  }
  return found;
}
