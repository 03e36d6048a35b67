// Every Kubernetes `deploy` target's output checked against the real CRD of the system that reads
// it (tests/fixtures/crds/README.md says where they come from): the OpenAPI schema with ajv after
// the API server's defaulting, and each CEL rule through its JavaScript equivalent.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import {
  buildEnvoyExtensionPolicy,
  buildIstioTrafficExtension,
  buildIstioWasmPlugin,
  ENVOY_GATEWAY_TARGET_KINDS,
  ISTIO_TARGET_KINDS,
  parseTargetRefs,
  toYaml,
  type IstioPluginOptions,
} from "../../src/deploy";
import { CEL_CHECKS, celErrors, celRules, loadCrd, schemaErrors, withDefaults, type CrdVersion } from "./crd-schema";

const WASM_PLUGIN = loadCrd("istio/wasmplugin.crd.yaml", "v1alpha1");
const TRAFFIC_EXTENSION = loadCrd("istio/trafficextension.crd.yaml", "v1alpha1");
const EXTENSION_POLICY = loadCrd("envoy-gateway/envoyextensionpolicy.crd.yaml", "v1alpha1");

const DIGEST = "3f1b9ee4b6a5b2c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
const IMAGE = `oci://ghcr.io/acme/add-header:1.0.0@sha256:${DIGEST}`;
const CONFIG = { text: '{"header":"x-hello","value":"world","limits":{"n":3},"list":[1,"a",null]}' };

/** The resource as `deploy` prints it (YAML read back), and what the API server would say about it. */
function admitted(crd: CrdVersion, document: unknown): string[] {
  const printed = withDefaults(crd.openApi, parseYaml(toYaml(document)));
  return [...schemaErrors(crd, printed), ...celErrors(crd, printed)];
}

const istioBase: IstioPluginOptions = { name: "add-header", namespace: "istio-system", image: IMAGE, pluginName: "add_header", configuration: CONFIG, failurePolicy: "FAIL_CLOSED" };
const istioVariants: [string, IstioPluginOptions][] = [
  ["selector, phase, priority, match, pull secret, Always", { ...istioBase, selector: { istio: "ingressgateway", app: "web" }, phase: "AUTHN", priority: -5, imagePullPolicy: "Always", imagePullSecret: "regcred", match: [{ mode: "CLIENT_AND_SERVER", ports: [{ number: 8080 }, { number: 443 }] }] }],
  ["targetRefs to a Gateway and a Service, FAIL_OPEN", { ...istioBase, targetRefs: parseTargetRefs(["Gateway/public", "Service/api"], ISTIO_TARGET_KINDS, "Istio"), failurePolicy: "FAIL_OPEN" }],
  ["no configuration, no namespace, FAIL_RELOAD, UNSPECIFIED_PHASE", { name: "plain", image: IMAGE, failurePolicy: "FAIL_RELOAD", phase: "UNSPECIFIED_PHASE" }],
  ["an unpinned image allowed, sha256 given", { ...istioBase, image: "oci://ghcr.io/acme/add-header:1.0.0", sha256: DIGEST }],
  ["a waypoint's targetRefs", { ...istioBase, targetRefs: parseTargetRefs(["Gateway/waypoint"], ISTIO_TARGET_KINDS, "Istio"), waypoint: true }],
];

describe("deploy output is admitted by the real CRDs", () => {
  for (const [what, options] of istioVariants) {
    it(`Istio WasmPlugin: ${what}`, () => assert.deepEqual(admitted(WASM_PLUGIN, buildIstioWasmPlugin(options)), []));
    it(`Istio TrafficExtension: ${what}`, () => assert.deepEqual(admitted(TRAFFIC_EXTENSION, buildIstioTrafficExtension(options)), []));
  }

  it("the golden files the docs show", () => {
    const golden = (name: string) => parseYaml(readFileSync(new URL(`./golden/${name}`, import.meta.url), "utf8"));
    for (const [crd, name] of [[WASM_PLUGIN, "istio-wasmplugin.yaml"], [TRAFFIC_EXTENSION, "istio-trafficextension.yaml"], [EXTENSION_POLICY, "envoy-gateway.yaml"]] as const) {
      const document = withDefaults(crd.openApi, golden(name));
      assert.deepEqual([...schemaErrors(crd, document), ...celErrors(crd, document)], [], name);
    }
  });

  const policy = (extra: Partial<Parameters<typeof buildEnvoyExtensionPolicy>[0]>) =>
    buildEnvoyExtensionPolicy({ name: "add-header", namespace: "default", image: IMAGE, rootId: "add_header", configuration: CONFIG, failurePolicy: "FAIL_CLOSED", targetRefs: parseTargetRefs(["HTTPRoute/backend"], ENVOY_GATEWAY_TARGET_KINDS, "Envoy Gateway"), ...extra });
  it("Envoy Gateway EnvoyExtensionPolicy: HTTPRoute, FAIL_CLOSED", () => assert.deepEqual(admitted(EXTENSION_POLICY, policy({})), []));
  it("Envoy Gateway EnvoyExtensionPolicy: Gateway and GRPCRoute, FAIL_OPEN, pull secret, Always, no configuration", () => {
    const document = policy({ targetRefs: parseTargetRefs(["Gateway/eg", "GRPCRoute/rpc"], ENVOY_GATEWAY_TARGET_KINDS, "Envoy Gateway"), failurePolicy: "FAIL_OPEN", pullSecret: "regcred", pullPolicy: "Always", configuration: undefined, rootId: undefined });
    assert.deepEqual(admitted(EXTENSION_POLICY, document), []);
  });
  it("Envoy Gateway EnvoyExtensionPolicy: an image without oci://, pinned with --sha256", () => {
    assert.deepEqual(admitted(EXTENSION_POLICY, policy({ image: "ghcr.io/acme/add-header:1.0.0", sha256: DIGEST })), []);
  });
});

describe("the checks catch what the API server would refuse", () => {
  const wasmPlugin = () => parseYaml(toYaml(buildIstioWasmPlugin({ ...istioBase, selector: { app: "web" } })));

  it("schema: an unknown field, a wrong type, an enum value, a bad name", () => {
    const document = wasmPlugin();
    document.spec.colour = "red";
    document.spec.priority = "high";
    document.spec.failStrategy = "FAIL_SOMETIMES";
    document.metadata.name = "Add_Header";
    assert.deepEqual(schemaErrors(WASM_PLUGIN, document).sort(), [
      "/metadata/name: must match pattern \"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$\"",
      "/spec/failStrategy: must be equal to one of the allowed values",
      "/spec/priority: must be integer,null",
      "/spec: must NOT have additional properties (colour)",
    ]);
  });

  it("schema: int32 ranges and the apiVersion/kind", () => {
    const document = wasmPlugin();
    document.spec.priority = 2 ** 31;
    document.kind = "WasmPlugins";
    assert.deepEqual(schemaErrors(WASM_PLUGIN, document).sort(), ["/kind: must be equal to constant", "/spec/priority: must be <= 2147483647"]);
  });

  it("CEL (Istio): selector with targetRefs, wildcards and empty keys, a cross-namespace ref, an ftp:// url", () => {
    const document = wasmPlugin();
    document.spec.targetRefs = [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "g", namespace: "other" }];
    document.spec.selector.matchLabels = { "app*": "web", "": "x", tier: "*" };
    document.spec.url = "ftp://files.example.com/x.wasm";
    assert.deepEqual(celErrors(WASM_PLUGIN, document), [
      ": only one of targetRefs or selector can be set",
      ".spec.selector.matchLabels: wildcard not allowed in label key match",
      ".spec.selector.matchLabels: key must not be empty",
      ".spec.selector.matchLabels.tier: wildcard not allowed in label value match",
      ".spec.url: url must have schema one of [http, https, file, oci]",
      ".spec.targetRefs[0].namespace: cross namespace referencing is not currently supported",
    ].map((line) => (line.startsWith(":") ? `.spec${line}` : line)));
  });

  it("CEL (Istio TrafficExtension): exactly one of wasm or lua", () => {
    const document = parseYaml(toYaml(buildIstioTrafficExtension(istioBase)));
    delete document.spec.wasm;
    assert.deepEqual(celErrors(TRAFFIC_EXTENSION, document), [".spec: exactly one of wasm or lua must be set"]);
  });

  it("CEL (Envoy Gateway): target kinds and groups, a pull secret of another kind, code without its image", () => {
    const document = parseYaml(toYaml(buildEnvoyExtensionPolicy({ name: "p", image: IMAGE, failurePolicy: "FAIL_CLOSED", pullSecret: "s", targetRefs: parseTargetRefs(["HTTPRoute/r"], ENVOY_GATEWAY_TARGET_KINDS, "Envoy Gateway") })));
    document.spec.targetRefs.push({ group: "", kind: "Service", name: "svc" });
    document.spec.wasm[0].code.image.pullSecretRef.kind = "ConfigMap";
    const withoutImage = structuredClone(document);
    delete withoutImage.spec.wasm[0].code.image;
    assert.deepEqual(celErrors(EXTENSION_POLICY, withDefaults(EXTENSION_POLICY.openApi, document)), [
      ".spec: this policy can only have a targetRefs[*].group of gateway.networking.k8s.io",
      ".spec: this policy can only have a targetRefs[*].kind of Gateway/ListenerSet/HTTPRoute/GRPCRoute/TCPRoute/UDPRoute/TLSRoute",
      ".spec.wasm[0].code.image.pullSecretRef: only support Secret kind.",
    ]);
    assert.deepEqual(celErrors(EXTENSION_POLICY, withoutImage).at(-1), ".spec.wasm[0].code: If type is Image, image field needs to be set.");
    delete document.spec.targetRefs;
    assert.deepEqual(celErrors(EXTENSION_POLICY, withDefaults(EXTENSION_POLICY.openApi, document))[0], ".spec: either targetRef or targetRefs must be used");
  });

  it("every CEL rule of the Istio CRDs has an equivalent; Envoy Gateway's cover the fields deploy writes", () => {
    for (const crd of [WASM_PLUGIN, TRAFFIC_EXTENSION]) for (const rule of celRules(crd.openApi)) assert.ok(rule in CEL_CHECKS, rule);
    // The spec's six, wasm[].code's two and pullSecretRef's one; the rest are on fields deploy never writes (extProc, lua, …).
    const covered = new Set(celRules(EXTENSION_POLICY.openApi).filter((rule) => rule in CEL_CHECKS));
    assert.equal(covered.size, 9);
    // A rule without an equivalent, on a node the output has, stops the check by name.
    const strange = { ...EXTENSION_POLICY, openApi: { ...EXTENSION_POLICY.openApi, "x-kubernetes-validations": [{ rule: "self.size() > 1000", message: "m" }] } };
    assert.throws(() => celErrors(strange, {}), /^Error: : no JavaScript equivalent for the CEL rule "self\.size\(\) > 1000" \(m\); add one to CEL_CHECKS$/);
  });
});
