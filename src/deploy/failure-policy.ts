/** Envoy's `PluginConfig.failure_policy` (deployment doc §1.2); the CLI always sets one explicitly. */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

export const FAILURE_POLICIES: readonly FailurePolicy[] = ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"];

/** Istio's `failStrategy` spelling of the same three policies (§2.1). */
export type IstioFailStrategy = "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";

export function istioFailStrategy(policy: FailurePolicy): IstioFailStrategy {
  return policy === "FAIL_CLOSED" ? "FAIL_CLOSE" : policy;
}

/** Parses a policy name; returns undefined for anything else. */
export function parseFailurePolicyName(text: string): FailurePolicy | undefined {
  return (FAILURE_POLICIES as readonly string[]).includes(text) ? (text as FailurePolicy) : undefined;
}
