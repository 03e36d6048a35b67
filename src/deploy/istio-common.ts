import { DeployConfigError } from "./deploy-error";
import { istioFailStrategy, type FailurePolicy, type IstioFailStrategy } from "./failure-policy";
import { pinImage } from "./pinned-image";
import { configurationObject, type PluginConfiguration } from "./plugin-configuration";
import type { PolicyTargetReference } from "./target-refs";

export type IstioPhase = "AUTHN" | "AUTHZ" | "STATS" | "UNSPECIFIED_PHASE";
export const ISTIO_PHASES: readonly IstioPhase[] = ["AUTHN", "AUTHZ", "STATS", "UNSPECIFIED_PHASE"];
export type IstioPullPolicy = "IfNotPresent" | "Always";
export type IstioTrafficMode = "CLIENT" | "SERVER" | "CLIENT_AND_SERVER";

/** `TrafficSelector`: which traffic of the selected workloads the plugin applies to. */
export interface IstioTrafficSelector {
  mode?: IstioTrafficMode;
  ports?: { number: number }[];
}

export interface KubernetesMetadata {
  name: string;
  namespace?: string;
}

/** What both Istio CRDs need from the user. */
export interface IstioPluginOptions {
  /** Resource name. */
  name: string;
  namespace?: string;
  /** `oci://registry/repo:tag@sha256:…` (as `push` prints), or a plain reference. */
  image: string;
  /** Manifest digest, when the URL does not carry it. */
  sha256?: string;
  allowUnpinned?: boolean;
  imagePullPolicy?: IstioPullPolicy;
  imagePullSecret?: string;
  /** Envoy `root_id`. */
  pluginName?: string;
  configuration?: PluginConfiguration;
  failurePolicy: FailurePolicy;
  phase?: IstioPhase;
  priority?: number;
  selector?: Record<string, string>;
  targetRefs?: PolicyTargetReference[];
  match?: IstioTrafficSelector[];
  /** The plugin runs on an ambient waypoint: `targetRefs` is required and `selector` refused (istio/istio#51038). */
  waypoint?: boolean;
}

/** The fields both CRDs share, resolved and validated. */
export interface IstioResolvedPlugin {
  metadata: KubernetesMetadata;
  url: string;
  sha256?: string;
  imagePullPolicy: IstioPullPolicy;
  imagePullSecret?: string;
  pluginName?: string;
  pluginConfig?: Record<string, unknown>;
  failStrategy: IstioFailStrategy;
  selector?: { matchLabels: Record<string, string> };
  targetRefs?: PolicyTargetReference[];
  match?: IstioTrafficSelector[];
}

/**
 * Validates and resolves the shared fields: pin, selector vs targetRefs, waypoint rules,
 * pluginName length, match ports.
 *
 * @throws DeployConfigError for what the Istio API server or agent would reject, or an unpinned image.
 */
export function resolveIstioPlugin(options: IstioPluginOptions): IstioResolvedPlugin {
  const pinned = pinImage(options.image, options.sha256, options.allowUnpinned);
  const hasSelector = options.selector !== undefined && Object.keys(options.selector).length > 0;
  const hasTargets = options.targetRefs !== undefined && options.targetRefs.length > 0;
  if (hasSelector && hasTargets) throw new DeployConfigError("selector and targetRefs: set at most one (Istio's CEL rule)");
  if (options.waypoint && !hasTargets) throw new DeployConfigError("waypoint: targetRefs is required (a selector is silently ignored on waypoints)");
  if (options.pluginName !== undefined && (options.pluginName.length < 1 || options.pluginName.length > 256)) {
    throw new DeployConfigError("pluginName: 1 to 256 characters");
  }
  for (const selector of options.match ?? []) {
    for (const port of selector.ports ?? []) {
      if (!Number.isInteger(port.number) || port.number < 1 || port.number > 65535) throw new DeployConfigError(`match port ${port.number} is out of range`);
    }
  }
  const resolved: IstioResolvedPlugin = {
    metadata: options.namespace === undefined ? { name: options.name } : { name: options.name, namespace: options.namespace },
    url: `oci://${pinned.reference}`,
    imagePullPolicy: options.imagePullPolicy ?? "IfNotPresent",
    failStrategy: istioFailStrategy(options.failurePolicy),
  };
  if (pinned.sha256 !== undefined) resolved.sha256 = pinned.sha256;
  if (options.imagePullSecret !== undefined) resolved.imagePullSecret = options.imagePullSecret;
  if (options.pluginName !== undefined) resolved.pluginName = options.pluginName;
  const pluginConfig = configurationObject(options.configuration);
  if (pluginConfig !== undefined) resolved.pluginConfig = pluginConfig;
  if (hasSelector) resolved.selector = { matchLabels: options.selector! };
  if (hasTargets) resolved.targetRefs = options.targetRefs;
  if (options.match !== undefined && options.match.length > 0) resolved.match = options.match;
  return resolved;
}
