import type { FailurePolicy as HostFailurePolicy } from "../../host/failure-policy";
import type { FailurePolicy } from "../config/dev-proxy-config";
import type { LogLevelName } from "../proxy-logger";

/** The host's name for a Wasm filter config's `failure_policy`. */
export function hostPolicy(policy: FailurePolicy): HostFailurePolicy {
  return policy === "FAIL_OPEN" ? "fail_open" : policy === "FAIL_RELOAD" ? "fail_reload" : "fail_closed";
}

/** The host's name for the proxy's log level (the proxy says `warning`, the host `warn`). */
export function hostLevel(level: LogLevelName): "trace" | "debug" | "info" | "warn" | "error" | "critical" | "off" {
  return level === "warning" ? "warn" : level;
}
