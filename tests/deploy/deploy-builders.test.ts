import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  buildEnvoyBootstrap,
  buildEnvoyExtensionPolicy,
  buildIstioTrafficExtension,
  buildIstioWasmPlugin,
  ENVOY_GATEWAY_TARGET_KINDS,
  ISTIO_TARGET_KINDS,
  parseTargetRefs,
  toYaml,
  type IstioPluginOptions,
} from "../../src/deploy";
import { loadConfigFile } from "../../src/proxy/config/load-config-file";
import { TINY_FILTER } from "../oci/fixture-wasm";

const DIGEST = "3f1b9ee4b6a5b2c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
const IMAGE = `oci://ghcr.io/acme/add-header:1.0.0@sha256:${DIGEST}`;
const CONFIG = { text: '{"header":"x-hello","value":"world"}' };
const golden = (name: string) => readFileSync(new URL(`./golden/${name}`, import.meta.url), "utf8");
const dir = mkdtempSync(join(tmpdir(), "pwas-deploy-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const istio: IstioPluginOptions = {
  name: "add-header",
  namespace: "istio-system",
  image: IMAGE,
  pluginName: "add_header",
  configuration: CONFIG,
  failurePolicy: "FAIL_RELOAD",
  phase: "STATS",
  priority: 10,
  selector: { istio: "ingressgateway" },
  match: [{ mode: "SERVER", ports: [{ number: 8080 }] }],
};

describe("deploy builders (golden YAML)", () => {
  it("Envoy bootstrap: listener, HCM, wasm filter then router, backend and callout clusters", () => {
    const bootstrap = buildEnvoyBootstrap({
      name: "add-header",
      rootId: "add_header",
      code: { filename: "build/add-header.wasm" },
      configuration: CONFIG,
      failurePolicy: "FAIL_CLOSED",
      clusters: [
        { name: "auth", host: "auth.example.com", port: 443, tls: true },
        { name: "grpc_backend", host: "127.0.0.1", port: 50051, http2: true },
      ],
    });
    assert.equal(toYaml(bootstrap), golden("envoy.yaml"));
  });

  it("Envoy bootstrap with remote code: http_uri on a wasm_code cluster, sha256, retries", () => {
    const bootstrap = buildEnvoyBootstrap({ name: "add-header", code: { url: "https://files.example.com/add-header.wasm", sha256: DIGEST }, failurePolicy: "FAIL_OPEN", runtime: "envoy.wasm.runtime.v8" });
    assert.equal(toYaml(bootstrap), golden("envoy-remote.yaml"));
  });

  it("Istio WasmPlugin", () => {
    assert.equal(toYaml(buildIstioWasmPlugin(istio)), golden("istio-wasmplugin.yaml"));
  });

  it("Istio TrafficExtension", () => {
    const { selector: _selector, ...rest } = istio;
    const options = { ...rest, targetRefs: parseTargetRefs(["Gateway/public"], ISTIO_TARGET_KINDS, "Istio"), waypoint: true };
    assert.equal(toYaml(buildIstioTrafficExtension(options)), golden("istio-trafficextension.yaml"));
  });

  it("Envoy Gateway EnvoyExtensionPolicy", () => {
    const policy = buildEnvoyExtensionPolicy({
      name: "add-header",
      namespace: "default",
      image: IMAGE,
      rootId: "add_header",
      configuration: CONFIG,
      failurePolicy: "FAIL_CLOSED",
      targetRefs: parseTargetRefs(["HTTPRoute/backend"], ENVOY_GATEWAY_TARGET_KINDS, "Envoy Gateway"),
    });
    assert.equal(toYaml(policy), golden("envoy-gateway.yaml"));
  });
});

describe("the generated Envoy bootstrap in our dev proxy", () => {
  it("loads with no warnings, a TLS callout cluster included", () => {
    const wasm = join(dir, "filter.wasm");
    writeFileSync(wasm, TINY_FILTER);
    const file = join(dir, "envoy.yaml");
    const build = (tls: boolean) =>
      buildEnvoyBootstrap({
        name: "add-header",
        rootId: "add_header",
        code: { filename: "filter.wasm" },
        configuration: CONFIG,
        failurePolicy: "FAIL_RELOAD",
        upstream: { host: "127.0.0.1", port: 18080 },
        clusters: [{ name: "auth", host: "127.0.0.1", port: 18081, tls }, { name: "grpc", host: "127.0.0.1", port: 50051, http2: true }],
      });
    writeFileSync(file, toYaml(build(false)));
    const { config, warnings } = loadConfigFile(file, dir);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.listener, { host: "0.0.0.0", port: 10000 });
    assert.deepEqual(config.admin, { host: "127.0.0.1", port: 9901 });
    assert.deepEqual(config.routes.map((r) => [r.prefix, r.cluster]), [["/", "backend"]]);
    assert.deepEqual(config.clusters.map((c) => [c.name, c.url.href, c.http2, c.connectTimeoutMs]), [
      ["backend", "http://127.0.0.1:18080/", false, 5000],
      ["auth", "http://127.0.0.1:18081/", false, 5000],
      ["grpc", "http://127.0.0.1:50051/", true, 5000],
    ]);
    const [filter] = config.filters;
    assert.equal(config.filters.length, 1);
    assert.deepEqual([filter.name, filter.rootId, filter.vmId, filter.wasmPath, filter.failurePolicy], ["add-header", "add_header", "add-header", wasm, "FAIL_RELOAD"]);
    assert.equal(filter.pluginConfiguration.toString(), CONFIG.text);

    writeFileSync(file, toYaml(build(true)));
    const withTls = loadConfigFile(file, dir);
    assert.deepEqual(withTls.warnings, []);
    assert.deepEqual(withTls.config.clusters[1].tls, { sni: "127.0.0.1", trustedCa: undefined, certificateChain: undefined, privateKey: undefined, alpnProtocols: [] });
  });
});

describe("deploy builders refuse what the target would reject", () => {
  it("unpinned images, disagreeing digests and malformed sha256", () => {
    assert.throws(() => buildIstioWasmPlugin({ ...istio, image: "oci://ghcr.io/acme/add-header:1.0.0" }), /is not pinned: use the oci:\/\/…@sha256:… URL printed by `push`/);
    assert.equal(buildIstioWasmPlugin({ ...istio, image: "ghcr.io/acme/add-header:1.0.0", allowUnpinned: true }).spec.sha256, undefined);
    assert.throws(() => buildIstioWasmPlugin({ ...istio, sha256: "0".repeat(64) }), /does not match the digest in the image URL/);
    assert.throws(() => buildIstioWasmPlugin({ ...istio, image: "ghcr.io/acme/f:1", sha256: "ABC" }), /sha256: expected 64 lower-case hex digits, got "ABC"/);
  });

  it("selector with targetRefs, a waypoint without targetRefs, a non-object pluginConfig", () => {
    const targetRefs = parseTargetRefs(["Gateway/gw"], ISTIO_TARGET_KINDS, "Istio");
    assert.throws(() => buildIstioWasmPlugin({ ...istio, targetRefs }), /selector and targetRefs: set at most one/);
    assert.throws(() => buildIstioTrafficExtension({ ...istio, selector: undefined, waypoint: true }), /waypoint: targetRefs is required/);
    assert.throws(() => buildIstioWasmPlugin({ ...istio, configuration: { text: "[1]" } }), /pluginConfig is a Struct/);
    assert.throws(() => buildIstioWasmPlugin({ ...istio, configuration: { text: "{" } }), /^DeployConfigError: configuration: not valid JSON: unexpected end of the text \(1:2\)$/);
    assert.throws(() => parseTargetRefs(["HTTPRoute/r"], ISTIO_TARGET_KINDS, "Istio"), /target ref "HTTPRoute\/r": expected Kind\/name with Kind one of Gateway, GatewayClass, Service, ServiceEntry \(Istio\)/);
    assert.throws(() => parseTargetRefs(Array(17).fill("Gateway/g"), ISTIO_TARGET_KINDS, "Istio"), /at most 16 entries, got 17/);
  });

  it("Envoy Gateway: FAIL_RELOAD and a missing targetRef; Envoy: duplicate clusters and bad remote sha256", () => {
    const base = { name: "f", image: IMAGE, failurePolicy: "FAIL_CLOSED" as const, targetRefs: parseTargetRefs(["Gateway/gw"], ENVOY_GATEWAY_TARGET_KINDS, "EG") };
    assert.throws(() => buildEnvoyExtensionPolicy({ ...base, failurePolicy: "FAIL_RELOAD" }), /Envoy Gateway has only failOpen/);
    assert.throws(() => buildEnvoyExtensionPolicy({ ...base, targetRefs: [] }), /targetRefs: Envoy Gateway needs a Gateway or route/);
    assert.equal(buildEnvoyExtensionPolicy({ ...base, failurePolicy: "FAIL_OPEN" }).spec.wasm[0].failOpen, true);
    assert.throws(() => buildEnvoyBootstrap({ name: "f", code: { filename: "f.wasm" }, failurePolicy: "FAIL_CLOSED", clusters: [{ name: "backend", host: "h", port: 1 }] }), /cluster "backend" is defined twice/);
    assert.throws(() => buildEnvoyBootstrap({ name: "f", code: { url: "https://x/f.wasm", sha256: "nope" }, failurePolicy: "FAIL_CLOSED" }), /sha256: expected the module's 64 lower-case hex digits/);
    assert.throws(() => buildEnvoyBootstrap({ name: "f", code: { url: "ftp://x/f.wasm", sha256: DIGEST }, failurePolicy: "FAIL_CLOSED" }), /Envoy fetches http:\/\/ or https:\/\/ only, got ftp:\/\//);
  });
});
