import { DeployConfigError } from "./deploy-error";

/** A Gateway API policy target reference (`group`, `kind`, `name`). */
export interface PolicyTargetReference {
  group: string;
  kind: string;
  name: string;
}

const GATEWAY_API = "gateway.networking.k8s.io";

/** Kinds Istio accepts in `targetRefs` (deployment doc §2.1), with their API groups. */
export const ISTIO_TARGET_KINDS: Record<string, string> = { Gateway: GATEWAY_API, GatewayClass: GATEWAY_API, Service: "", ServiceEntry: "networking.istio.io" };

/** Kinds Envoy Gateway accepts in an EnvoyExtensionPolicy's `targetRefs` (§3.1). */
export const ENVOY_GATEWAY_TARGET_KINDS: Record<string, string> = {
  Gateway: GATEWAY_API,
  ListenerSet: GATEWAY_API,
  HTTPRoute: GATEWAY_API,
  GRPCRoute: GATEWAY_API,
  UDPRoute: GATEWAY_API,
  TCPRoute: GATEWAY_API,
  TLSRoute: GATEWAY_API,
};

/**
 * Parses `Kind/name` items against the kinds a target accepts (at most 16, as both CRDs allow).
 *
 * @throws DeployConfigError naming the bad item and the accepted kinds.
 */
export function parseTargetRefs(items: readonly string[], kinds: Record<string, string>, target: string): PolicyTargetReference[] {
  if (items.length > 16) throw new DeployConfigError(`targetRefs: at most 16 entries, got ${items.length}`);
  return items.map((item) => {
    const slash = item.indexOf("/");
    const kind = item.slice(0, slash);
    const name = item.slice(slash + 1);
    if (slash <= 0 || name === "" || !(kind in kinds)) {
      throw new DeployConfigError(`target ref "${item}": expected Kind/name with Kind one of ${Object.keys(kinds).join(", ")} (${target})`);
    }
    return { group: kinds[kind], kind, name };
  });
}
