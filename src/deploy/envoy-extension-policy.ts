import { DeployConfigError } from "./deploy-error";
import type { FailurePolicy } from "./failure-policy";
import { dropUndefined } from "./istio-wasm-plugin";
import type { KubernetesMetadata } from "./istio-common";
import { pinImage } from "./pinned-image";
import { configurationJson, type PluginConfiguration } from "./plugin-configuration";
import type { PolicyTargetReference } from "./target-refs";

/** Envoy Gateway `EnvoyExtensionPolicy` (gateway.envoyproxy.io/v1alpha1) with one `wasm` entry (deployment doc §3.1). */
export interface EnvoyExtensionPolicy {
  apiVersion: "gateway.envoyproxy.io/v1alpha1";
  kind: "EnvoyExtensionPolicy";
  metadata: KubernetesMetadata;
  spec: {
    targetRefs: PolicyTargetReference[];
    wasm: EnvoyGatewayWasm[];
  };
}

export interface EnvoyGatewayWasm {
  name: string;
  rootID?: string;
  code: { type: "Image"; image: { url: string; sha256?: string; pullSecretRef?: { name: string } }; pullPolicy: "IfNotPresent" | "Always" };
  config?: unknown;
  failOpen: boolean;
}

export interface EnvoyExtensionPolicyOptions {
  /** Resource name; also the wasm entry name (Envoy Gateway uses it as vm_id). */
  name: string;
  namespace?: string;
  image: string;
  sha256?: string;
  allowUnpinned?: boolean;
  pullPolicy?: "IfNotPresent" | "Always";
  pullSecret?: string;
  rootId?: string;
  configuration?: PluginConfiguration;
  /** Envoy Gateway only has `failOpen`; FAIL_RELOAD is refused. */
  failurePolicy: FailurePolicy;
  targetRefs: PolicyTargetReference[];
}

/**
 * An EnvoyExtensionPolicy whose image is pinned by digest (`image.sha256` must equal the
 * manifest digest) with an explicit `failOpen`. The URL carries no scheme, as Envoy Gateway expects.
 *
 * @throws DeployConfigError without targetRefs, for FAIL_RELOAD, or an unpinned image.
 */
export function buildEnvoyExtensionPolicy(options: EnvoyExtensionPolicyOptions): EnvoyExtensionPolicy {
  if (options.targetRefs.length === 0) throw new DeployConfigError("targetRefs: Envoy Gateway needs a Gateway or route to attach to (--target-ref HTTPRoute/name)");
  if (options.failurePolicy === "FAIL_RELOAD") throw new DeployConfigError("failure policy FAIL_RELOAD: Envoy Gateway has only failOpen; use FAIL_CLOSED or FAIL_OPEN");
  const pinned = pinImage(options.image, options.sha256, options.allowUnpinned);
  const config = configurationJson(options.configuration);
  return {
    apiVersion: "gateway.envoyproxy.io/v1alpha1",
    kind: "EnvoyExtensionPolicy",
    metadata: options.namespace === undefined ? { name: options.name } : { name: options.name, namespace: options.namespace },
    spec: {
      targetRefs: options.targetRefs,
      wasm: [
        dropUndefined({
          name: options.name,
          rootID: options.rootId,
          code: {
            type: "Image" as const,
            image: dropUndefined({ url: pinned.reference, sha256: pinned.sha256, pullSecretRef: options.pullSecret === undefined ? undefined : { name: options.pullSecret } }),
            pullPolicy: options.pullPolicy ?? "IfNotPresent",
          },
          config,
          failOpen: options.failurePolicy === "FAIL_OPEN",
        }),
      ],
    },
  };
}
