/** Media types of the "compat" Wasm image (deployment doc §4.1a): an ordinary OCI image. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** Layer types a compat puller (Istio agent, Envoy Gateway) accepts as the last layer. */
export const COMPAT_LAYER_TYPES: readonly string[] = [OCI_LAYER_TAR_GZIP, DOCKER_LAYER_TAR_GZIP];

/** Marks the compat variant; pullers do not check it, but it tells humans what the image is. */
export const COMPAT_VARIANT_ANNOTATION = "module.wasm.image/variant";

/** The file name inside the layer that pullers look for (matched by basename). */
export const PLUGIN_FILE_NAME = "plugin.wasm";

/**
 * The file a module's configuration schema has in the image, beside `plugin.wasm` in the image's
 * filesystem: `package` puts it in a tar+gzip layer of its own, before the module's layer (Istio's
 * and Envoy Gateway's fetchers read only the last layer, istio pkg/wasm/imagefetcher.go).
 */
export const CONFIG_SCHEMA_FILE_NAME = "plugin.schema.json";

/** The layer annotation naming the one file a layer holds (OCI image spec, pre-defined annotation keys). */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";
