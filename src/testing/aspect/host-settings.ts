/**
 * The settings an AssemblyScript spec gives `TestHost` before `start()`, sent as a pair list
 * (see field-list.ts) of `[key, value]`. Unknown keys and bad values are rejected by name, so a
 * typo in a spec fails loudly instead of being ignored.
 */
import { LOG_LEVEL_NAMES } from "../../host/constants";
import type { FailurePolicy, LogLevelName, PropertyTree } from "../../host";
import { decodePropertyList } from "./property-list";

export interface HostSettings {
  /** The filter's name in the config helper's `filters` ("" for the default `filter`). */
  filterName: string;
  pluginConfig?: string;
  vmConfig?: string;
  vmId?: string;
  pluginName?: string;
  rootId?: string;
  logLevel: LogLevelName;
  clusters: string[];
  clockStartMs?: number;
  failurePolicy?: FailurePolicy;
  strict: boolean;
  allowOnHeadersStopIteration: boolean;
  environment: Record<string, string>;
  /** Property values for every stream (see property-list.ts). */
  properties?: PropertyTree;
  /** Keep a call trace (cpp-host's format) for `traceLines`. */
  trace: boolean;
}

const FAILURE_POLICIES: readonly FailurePolicy[] = ["fail_closed", "fail_open", "fail_reload"];

function parseBoolean(key: string, value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new Error(`TestHost setting ${key}: expected "true" or "false", got "${value}"`);
}

/** Builds settings from the spec's pairs; throws an Error naming the bad key or value. */
export function parseHostSettings(pairs: readonly [string, string][]): HostSettings {
  const settings: HostSettings = { filterName: "", logLevel: "trace", clusters: [], strict: false, allowOnHeadersStopIteration: false, environment: {}, trace: false };
  for (const [key, value] of pairs) {
    switch (key) {
      case "filter":
        settings.filterName = value;
        break;
      case "pluginConfig":
        settings.pluginConfig = value;
        break;
      case "vmConfig":
        settings.vmConfig = value;
        break;
      case "vmId":
        settings.vmId = value;
        break;
      case "pluginName":
        settings.pluginName = value;
        break;
      case "rootId":
        settings.rootId = value;
        break;
      case "logLevel":
        if (!(LOG_LEVEL_NAMES as readonly string[]).includes(value)) throw new Error(`TestHost setting logLevel: "${value}" is not one of ${LOG_LEVEL_NAMES.join(", ")}`);
        settings.logLevel = value as LogLevelName;
        break;
      case "cluster":
        settings.clusters.push(value);
        break;
      case "clockStartMs": {
        const ms = Number(value);
        if (!Number.isFinite(ms) || value.trim() === "") throw new Error(`TestHost setting clockStartMs: "${value}" is not a number`);
        settings.clockStartMs = ms;
        break;
      }
      case "failurePolicy":
        if (!(FAILURE_POLICIES as readonly string[]).includes(value)) throw new Error(`TestHost setting failurePolicy: "${value}" is not one of ${FAILURE_POLICIES.join(", ")}`);
        settings.failurePolicy = value as FailurePolicy;
        break;
      case "strict":
        settings.strict = parseBoolean(key, value);
        break;
      case "allowOnHeadersStopIteration":
        settings.allowOnHeadersStopIteration = parseBoolean(key, value);
        break;
      case "properties":
        settings.properties = decodePropertyList(value);
        break;
      case "trace":
        settings.trace = parseBoolean(key, value);
        break;
      default:
        if (key.startsWith("env:") && key.length > 4) {
          settings.environment[key.slice(4)] = value;
          break;
        }
        throw new Error(`TestHost: unknown setting "${key}"`);
    }
  }
  return settings;
}
