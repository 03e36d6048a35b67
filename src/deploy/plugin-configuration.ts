import { formatPosition, scanJsonText } from "../config/json-text-positions";
import { DeployConfigError } from "./deploy-error";

/**
 * The filter's configuration as the user wrote it (JSON text). Envoy gets the text unchanged in a
 * StringValue; Istio's `pluginConfig` is a Struct, so there it must be a JSON object.
 */
export interface PluginConfiguration {
  text: string;
}

/** Parses the text as JSON; returns undefined for an empty configuration. @throws DeployConfigError when it is not JSON. */
export function configurationJson(config: PluginConfiguration | undefined): unknown {
  if (config === undefined || config.text.trim() === "") return undefined;
  // Located by our scanner: Node 20's JSON.parse names no position for many errors.
  const { error } = scanJsonText(config.text);
  if (error !== undefined) throw new DeployConfigError(`configuration: not valid JSON: ${error.message} ${formatPosition(error.position)}`);
  return JSON.parse(config.text);
}

/** The configuration as a JSON object (Istio `pluginConfig`). @throws DeployConfigError for JSON that is not an object. */
export function configurationObject(config: PluginConfiguration | undefined): Record<string, unknown> | undefined {
  const value = configurationJson(config);
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DeployConfigError("configuration: Istio pluginConfig is a Struct, so the configuration must be a JSON object");
  }
  return value as Record<string, unknown>;
}
