import { resolveIstioPlugin, type IstioPhase, type IstioPluginOptions, type IstioPullPolicy, type IstioTrafficSelector, type KubernetesMetadata } from "./istio-common";
import type { IstioFailStrategy } from "./failure-policy";
import { dropUndefined } from "./istio-wasm-plugin";
import type { PolicyTargetReference } from "./target-refs";

/**
 * Istio `TrafficExtension` (extensions.istio.io/v1alpha1, Istio 1.30; deployment doc §2.2): the
 * attachment fields at the top, the module under `wasm`.
 */
export interface IstioTrafficExtension {
  apiVersion: "extensions.istio.io/v1alpha1";
  kind: "TrafficExtension";
  metadata: KubernetesMetadata;
  spec: {
    selector?: { matchLabels: Record<string, string> };
    targetRefs?: PolicyTargetReference[];
    phase?: Exclude<IstioPhase, "UNSPECIFIED_PHASE"> | "UNSPECIFIED";
    priority?: number;
    match?: IstioTrafficSelector[];
    wasm: {
      url: string;
      sha256?: string;
      imagePullPolicy: IstioPullPolicy;
      imagePullSecret?: string;
      pluginName?: string;
      pluginConfig?: Record<string, unknown>;
      failStrategy: IstioFailStrategy;
    };
  };
}

/**
 * A TrafficExtension pinned by digest with an explicit `failStrategy`. The phase uses the
 * `AUTHN`-style names of the docs examples (an intermediate proto revision had `EXECUTION_PHASE_*`);
 * its unspecified phase is `UNSPECIFIED`, where WasmPlugin's is `UNSPECIFIED_PHASE` (the CRD's
 * enum, istio/api kubernetes/customresourcedefinitions.gen.yaml, refuses the other spelling).
 *
 * @throws DeployConfigError (see `resolveIstioPlugin`).
 */
export function buildIstioTrafficExtension(options: IstioPluginOptions): IstioTrafficExtension {
  const r = resolveIstioPlugin(options);
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "TrafficExtension",
    metadata: r.metadata,
    spec: dropUndefined({
      selector: r.selector,
      targetRefs: r.targetRefs,
      phase: options.phase === "UNSPECIFIED_PHASE" ? "UNSPECIFIED" : options.phase,
      priority: options.priority,
      match: r.match,
      wasm: dropUndefined({
        url: r.url,
        sha256: r.sha256,
        imagePullPolicy: r.imagePullPolicy,
        imagePullSecret: r.imagePullSecret,
        pluginName: r.pluginName,
        pluginConfig: r.pluginConfig,
        failStrategy: r.failStrategy,
      }),
    }),
  };
}
