// Validates a resource against a real CRD, as a Kubernetes API server would admit it: the
// OpenAPI v3 schema (converted to JSON Schema for ajv) and the CEL rules (x-kubernetes-validations)
// through hand-written equivalents, keyed by the exact rule text so that a rule nobody translated
// fails the test by name.
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import { parse as parseYaml } from "yaml";

type Schema = Record<string, unknown>;

/** One served version of a CRD: its group/version, kind and schema. */
export interface CrdVersion {
  apiVersion: string;
  kind: string;
  openApi: Schema;
}

/** Reads `tests/fixtures/crds/<file>` and returns its served version `version`. */
export function loadCrd(file: string, version: string): CrdVersion {
  const crd = parseYaml(readFileSync(new URL(`../fixtures/crds/${file}`, import.meta.url), "utf8")) as {
    spec: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema: { openAPIV3Schema: Schema } }[] };
  };
  const served = crd.spec.versions.find((v) => v.name === version && v.served);
  if (served === undefined) throw new Error(`${file}: version ${version} is not served`);
  return { apiVersion: `${crd.spec.group}/${version}`, kind: crd.spec.names.kind, openApi: served.schema.openAPIV3Schema };
}

const INT_RANGES: Record<string, [number, number]> = { int32: [-2147483648, 2147483647], int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] };

/**
 * The OpenAPI v3 (structural) schema as JSON Schema draft 2020-12: x-kubernetes-* dropped after
 * their effect is kept (int-or-string -> integer or string; preserve-unknown-fields -> any
 * members), `nullable` -> a null type, int32/int64 formats -> ranges. Objects with properties
 * refuse unknown members: the API server prunes them silently, and kubectl's default field
 * validation (Strict since Kubernetes 1.27) refuses them, so either way our output must not have any.
 */
export function toJsonSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-") || key === "nullable" || key === "format") continue;
    if (key === "properties") out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toJsonSchema(v)]));
    else if (key === "items" || (key === "additionalProperties" && typeof value === "object") || key === "not") out[key] = toJsonSchema(value as Schema);
    else if (key === "anyOf" || key === "oneOf" || key === "allOf") out[key] = (value as Schema[]).map(toJsonSchema);
    else out[key] = value;
  }
  if (schema["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  const range = INT_RANGES[schema.format as string];
  if (range !== undefined) {
    out.minimum ??= range[0];
    out.maximum ??= range[1];
  }
  if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  if (out.properties !== undefined && out.additionalProperties === undefined && schema["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  return out;
}

/**
 * ObjectMeta as deploy writes it. CRD objects' names must be DNS-1123 subdomains (kubernetes
 * apimachinery pkg/api/validation/objectmeta.go, NameIsDNSSubdomain), as must namespaces' be labels.
 */
const OBJECT_META: Schema = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" },
    namespace: { type: "string", maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
    labels: { type: "object", additionalProperties: { type: "string" } },
    annotations: { type: "object", additionalProperties: { type: "string" } },
  },
  required: ["name"],
  additionalProperties: false,
};

const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });

/** The schema errors of `resource` against `crd` (empty when it is admitted), as `path: message`. */
export function schemaErrors(crd: CrdVersion, resource: unknown): string[] {
  const converted = toJsonSchema(crd.openApi);
  const properties = { ...(converted.properties as Record<string, Schema>) };
  properties.apiVersion = { const: crd.apiVersion };
  properties.kind = { const: crd.kind };
  properties.metadata = OBJECT_META;
  const validate = ajv.compile({ ...converted, properties, required: [...new Set([...((converted.required as string[]) ?? []), "apiVersion", "kind", "metadata", "spec"])] });
  if (validate(resource)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`);
}

/**
 * `resource` with the schema's defaults filled in, as the API server does before it validates
 * (apiextensions-apiserver pkg/apiserver/schema/defaulting): a missing member with a `default`
 * gets it, in objects that are present. The input is not changed.
 */
export function withDefaults(schema: Schema, value: unknown): unknown {
  if (Array.isArray(value)) return schema.items === undefined ? value : value.map((item) => withDefaults(schema.items as Schema, item));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [key, member] of Object.entries(properties)) if (out[key] === undefined && member.default !== undefined) out[key] = structuredClone(member.default);
  for (const [key, member] of Object.entries(out)) {
    const memberSchema = properties[key] ?? (typeof schema.additionalProperties === "object" ? (schema.additionalProperties as Schema) : undefined);
    if (memberSchema !== undefined) out[key] = withDefaults(memberSchema, member);
  }
  return out;
}

/** A CEL rule's JavaScript equivalent: true when `self` passes. */
type CelCheck = (self: any) => boolean;

// isURL/url().getScheme() of Kubernetes' CEL URL library (k8s.io/apiserver/pkg/cel/library/urls.go):
// isURL is Go's url.ParseRequestURI succeeding, which needs an absolute URL or an absolute path.
function celUrlScheme(text: string): string | undefined {
  if (text.startsWith("/")) return "";
  try {
    return new URL(text).protocol.replace(/:$/, "");
  } catch {
    return undefined;
  }
}
const has = (self: Record<string, unknown>, key: string) => self[key] !== undefined;
const EG_ROUTE_KINDS = ["HTTPRoute", "GRPCRoute", "UDPRoute", "TCPRoute", "TLSRoute"];
const EG_KINDS = ["Gateway", "ListenerSet", ...EG_ROUTE_KINDS];
const urlRule = (schemes: string[]): CelCheck => (self: string) => {
  const direct = celUrlScheme(self);
  if (direct !== undefined) return schemes.includes(direct);
  const viaHttp = celUrlScheme(`http://${self}`);
  return viaHttp !== undefined && schemes.includes(viaHttp);
};

/**
 * Every CEL rule our output can reach, by its exact text in the CRDs, with its JavaScript
 * equivalent. A rule met in a walk and missing here fails the test, naming it.
 */
export const CEL_CHECKS: Record<string, CelCheck> = {
  // Istio WasmPlugin and TrafficExtension, spec
  "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1": (self) =>
    Number(has(self, "selector")) + Number(has(self, "targetRef")) + Number(has(self, "targetRefs")) <= 1,
  "(has(self.selector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1": (self) => Number(has(self, "selector")) + Number(has(self, "targetRefs")) <= 1,
  "has(self.wasm) != has(self.lua)": (self) => has(self, "wasm") !== has(self, "lua"),
  // Istio selector.matchLabels (keys, then each value)
  'self.all(key, !key.contains("*"))': (self) => Object.keys(self).every((key) => !key.includes("*")),
  "self.all(key, key.size() != 0)": (self) => Object.keys(self).every((key) => key.length !== 0),
  '!self.contains("*")': (self: string) => !self.includes("*"),
  // Istio targetRef(s)[].namespace
  "self.size() == 0": (self: string) => self.length === 0,
  // Istio url (WasmPlugin lists oci before file, TrafficExtension after: same set)
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : (isURL("http://" + self) &&\nurl("http://" + self).getScheme() in ["", "http", "https", "oci", "file"])': urlRule(["", "http", "https", "oci", "file"]),
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "file", "oci"]) : (isURL("http://" + self) &&\nurl("http://" + self).getScheme() in ["", "http", "https", "file", "oci"])': urlRule(["", "http", "https", "file", "oci"]),
  // Envoy Gateway EnvoyExtensionPolicy, spec
  "(has(self.targetRef) && !has(self.targetRefs)) || (!has(self.targetRef) && has(self.targetRefs)) || (has(self.targetSelectors) && self.targetSelectors.size() > 0) ": (self) =>
    (has(self, "targetRef") && !has(self, "targetRefs")) || (!has(self, "targetRef") && has(self, "targetRefs")) || (has(self, "targetSelectors") && self.targetSelectors.length > 0),
  "has(self.targetRef) ? self.targetRef.group == 'gateway.networking.k8s.io' : true": (self) => !has(self, "targetRef") || self.targetRef.group === "gateway.networking.k8s.io",
  "has(self.targetRef) ? self.targetRef.kind in ['Gateway', 'ListenerSet', 'HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute'] : true": (self) => !has(self, "targetRef") || EG_KINDS.includes(self.targetRef.kind),
  "has(self.targetRefs) ? self.targetRefs.all(ref, ref.group == 'gateway.networking.k8s.io') : true ": (self) =>
    !has(self, "targetRefs") || self.targetRefs.every((ref: { group: string }) => ref.group === "gateway.networking.k8s.io"),
  "has(self.targetRefs) ? self.targetRefs.all(ref, ref.kind in ['Gateway', 'ListenerSet', 'HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute']) : true ": (self) =>
    !has(self, "targetRefs") || self.targetRefs.every((ref: { kind: string }) => EG_KINDS.includes(ref.kind)),
  "!has(self.mergeType) || ((!has(self.targetRef) || self.targetRef.kind in ['HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute']) && (!has(self.targetRefs) || self.targetRefs.all(ref, ref.kind in ['HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute'])) && (!has(self.targetSelectors) || self.targetSelectors.all(sel, sel.kind in ['HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute'])))":
    (self) =>
      !has(self, "mergeType") ||
      ((!has(self, "targetRef") || EG_ROUTE_KINDS.includes(self.targetRef.kind)) &&
        (!has(self, "targetRefs") || self.targetRefs.every((ref: { kind: string }) => EG_ROUTE_KINDS.includes(ref.kind))) &&
        (!has(self, "targetSelectors") || self.targetSelectors.every((sel: { kind: string }) => EG_ROUTE_KINDS.includes(sel.kind)))),
  // Istio vmConfig.env[] (deploy writes no env today; kept so a future one is checked)
  '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)': (self) => (self.valueFrom ?? "") !== "HOST" || !has(self, "value"),
  // Envoy Gateway wasm[].code and its image's pull secret
  "self.type == 'HTTP' ? has(self.http) : !has(self.http)": (self) => (self.type === "HTTP" ? has(self, "http") : !has(self, "http")),
  "self.type == 'Image' ? has(self.image) : !has(self.image)": (self) => (self.type === "Image" ? has(self, "image") : !has(self, "image")),
  "self.kind == 'Secret'": (self) => self.kind === "Secret",
};

/**
 * Walks `resource` with the CRD's schema and runs every CEL rule on the nodes present (as the
 * API server does: a rule applies where its node exists). Returns the failed rules as
 * `path: message`; throws for a reached rule without a JavaScript equivalent.
 */
export function celErrors(crd: CrdVersion, resource: unknown): string[] {
  const failures: string[] = [];
  const walk = (schema: Schema, value: unknown, path: string): void => {
    if (value === undefined || value === null) return;
    for (const { rule, message } of (schema["x-kubernetes-validations"] as { rule: string; message: string }[] | undefined) ?? []) {
      const check = CEL_CHECKS[rule];
      if (check === undefined) throw new Error(`${path}: no JavaScript equivalent for the CEL rule ${JSON.stringify(rule)} (${message}); add one to CEL_CHECKS`);
      if (!check(value)) failures.push(`${path}: ${message}`);
    }
    if (Array.isArray(value)) {
      if (schema.items !== undefined) value.forEach((item, i) => walk(schema.items as Schema, item, `${path}[${i}]`));
      return;
    }
    if (typeof value !== "object") return;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      const memberSchema = properties[key] ?? (typeof schema.additionalProperties === "object" ? (schema.additionalProperties as Schema) : undefined);
      if (memberSchema !== undefined) walk(memberSchema, member, `${path}.${key}`);
    }
  };
  walk(crd.openApi, resource, "");
  return failures;
}

/** Every CEL rule text in a CRD schema (to show which ones the checks cover). */
export function celRules(schema: Schema): string[] {
  const rules: string[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(walk);
    for (const [key, value] of Object.entries(node)) {
      if (key === "x-kubernetes-validations") rules.push(...(value as { rule: string }[]).map((r) => r.rule));
      else walk(value);
    }
  };
  walk(schema);
  return rules;
}
