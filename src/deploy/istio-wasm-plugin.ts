import { resolveIstioPlugin, type IstioPhase, type IstioPluginOptions, type IstioPullPolicy, type IstioTrafficSelector, type KubernetesMetadata } from "./istio-common";
import type { IstioFailStrategy } from "./failure-policy";
import type { PolicyTargetReference } from "./target-refs";

/** Istio `WasmPlugin` (extensions.istio.io/v1alpha1), the fields this builder emits (deployment doc §2.1). */
export interface IstioWasmPlugin {
  apiVersion: "extensions.istio.io/v1alpha1";
  kind: "WasmPlugin";
  metadata: KubernetesMetadata;
  spec: {
    selector?: { matchLabels: Record<string, string> };
    targetRefs?: PolicyTargetReference[];
    url: string;
    sha256?: string;
    imagePullPolicy: IstioPullPolicy;
    imagePullSecret?: string;
    pluginName?: string;
    pluginConfig?: Record<string, unknown>;
    phase?: IstioPhase;
    priority?: number;
    failStrategy: IstioFailStrategy;
    match?: IstioTrafficSelector[];
  };
}

/**
 * A WasmPlugin pinned by digest with an explicit `failStrategy` and `imagePullPolicy`.
 *
 * @throws DeployConfigError (see `resolveIstioPlugin`).
 */
export function buildIstioWasmPlugin(options: IstioPluginOptions): IstioWasmPlugin {
  const r = resolveIstioPlugin(options);
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: r.metadata,
    spec: dropUndefined({
      selector: r.selector,
      targetRefs: r.targetRefs,
      url: r.url,
      sha256: r.sha256,
      imagePullPolicy: r.imagePullPolicy,
      imagePullSecret: r.imagePullSecret,
      pluginName: r.pluginName,
      pluginConfig: r.pluginConfig,
      phase: options.phase,
      priority: options.priority,
      failStrategy: r.failStrategy,
      match: r.match,
    }),
  };
}

/** Removes undefined members so they do not appear as `null` in YAML. */
export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
