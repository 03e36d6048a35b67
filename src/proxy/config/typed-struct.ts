import { ConfigReader } from "./config-reader";
import { ConfigError } from "./dev-proxy-config";

/** The two wrapper types Envoy accepts in place of an extension's own `typed_config`. */
const TYPED_STRUCT_TYPES = new Set(["udpa.type.v1.TypedStruct", "xds.type.v3.TypedStruct"]);

/**
 * The extension config inside a `typed_config`: the mapping itself, or, when it is a
 * `udpa.type.v1.TypedStruct` / `xds.type.v3.TypedStruct`, its `value` read as the message named by
 * `type_url`. Envoy converts a TypedStruct's `value` (a Struct) into the message of `type_url`
 * before the extension factory sees it (envoy source/common/config/registry_utils.cc,
 * `RegistryUtils::translateOpaqueConfig`), so a wrapped config behaves exactly as the plain one.
 *
 * `expectedType` (the message's full name, e.g. `envoy.extensions.filters.http.wasm.v3.Wasm`)
 * is compared with `type_url`: a TypedStruct for another message is refused, as Envoy's factory
 * refuses it.
 *
 * @returns a reader of the inner message whose path ends in `.value` when it was wrapped (its
 *   `@type`, if any, is accepted).
 * @throws ConfigError when the TypedStruct has no `type_url`, names another message, or has no
 *   `value` mapping.
 */
export function unwrapTypedConfig(typed: ConfigReader, expectedType: string): ConfigReader {
  typed.accept("@type");
  const type = typeName(typed.value["@type"]);
  if (type === undefined || !TYPED_STRUCT_TYPES.has(type)) return typed;
  const typeUrl = typed.string("type_url");
  if (typeUrl === undefined) throw new ConfigError(`${typed.at("type_url")}: missing (a ${type} names the message it holds)`);
  if (typeName(typeUrl) !== expectedType) {
    throw new ConfigError(`${typed.at("type_url")}: "${typeUrl}" is not ${expectedType}`);
  }
  const value = typed.raw("value");
  typed.finish();
  return ConfigReader.of(value ?? {}, typed.at("value"), typed.warnings);
}

/** `type.googleapis.com/a.b.C` -> `a.b.C` (what follows the last `/`). */
function typeName(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  return url.slice(url.lastIndexOf("/") + 1);
}
