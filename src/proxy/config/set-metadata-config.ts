import type { ConfigReader } from "./config-reader";
import { ConfigError, type MetadataEntry } from "./dev-proxy-config";
import { unwrapTypedConfig } from "./typed-struct";

const SET_METADATA_TYPE = "envoy.extensions.filters.http.set_metadata.v3.Config";

/**
 * Reads the typed_config of an `envoy.filters.http.set_metadata` filter (plain or in a
 * TypedStruct): the `metadata` list (`metadata_namespace`, `value`, `allow_overwrite`) and the
 * deprecated top-level `metadata_namespace` + `value`, which Envoy treats as one entry that may
 * overwrite (envoy source/extensions/filters/http/set_metadata/config.cc and set_metadata_filter.cc).
 *
 * @throws ConfigError for an entry without namespace, or one with `typed_value` (typed metadata
 *   is not what a Wasm filter's `metadata.filter_metadata` property reads).
 */
export function readSetMetadataConfig(typedConfig: ConfigReader): MetadataEntry[] {
  const config = unwrapTypedConfig(typedConfig, SET_METADATA_TYPE);
  const entries: MetadataEntry[] = [];
  const legacyNamespace = config.string("metadata_namespace");
  const legacyValue = config.raw("value");
  if (legacyNamespace !== undefined) entries.push({ namespace: legacyNamespace, value: structOf(legacyValue, config.at("value")), allowOverwrite: true });
  for (const entry of config.children("metadata")) {
    const namespace = entry.string("metadata_namespace");
    if (namespace === undefined || namespace === "") throw new ConfigError(`${entry.path}.metadata_namespace: missing`);
    entry.refuse("typed_value", "typed metadata is not supported by the dev proxy (Wasm filters read untyped filter_metadata); use value");
    entries.push({ namespace, value: structOf(entry.raw("value"), entry.at("value")), allowOverwrite: entry.boolean("allow_overwrite") ?? false });
    entry.finish();
  }
  config.finish();
  return entries;
}

function structOf(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ConfigError(`${where}: expected a mapping (a google.protobuf.Struct)`);
  return value as Record<string, unknown>;
}
