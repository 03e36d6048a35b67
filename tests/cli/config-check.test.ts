// Checks before traffic: `deploy` (every target) and `run` (flags, dev-proxy YAML, Envoy
// bootstraps) refuse a plugin configuration its module's schema does not accept, with exit 1 and
// the field; --no-config-check skips the check.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../src/cli/main";
import { KEYS_SCHEMA, withConfigSchema } from "../helpers/config-schema-module";
import { TINY_FILTER } from "../oci/fixture-wasm";
import { HELLO_FILTER } from "../proxy/wat-filters";
import { captureIo } from "./cli-test-io";

const project = mkdtempSync(join(tmpdir(), "pwas-config-check-"));
after(() => rmSync(project, { recursive: true, force: true }));
writeFileSync(join(project, "declared.wasm"), withConfigSchema(TINY_FILTER, KEYS_SCHEMA));
writeFileSync(join(project, "plain.wasm"), TINY_FILTER);
writeFileSync(join(project, "beside.wasm"), TINY_FILTER);
writeFileSync(join(project, "beside.schema.json"), JSON.stringify(KEYS_SCHEMA));
writeFileSync(join(project, "hello.wasm"), withConfigSchema(HELLO_FILTER, KEYS_SCHEMA));

const BAD = '{"requiredKeys":[7]}';
const GOOD = '{"requiredKeys":["id"]}';
const REFUSAL = "requiredKeys[0]: expected a string, got a number (1:18)";
const carried = (module: string) => `  (checked against the schema ${module} carries; --no-config-check skips the check)\n`;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(project);
  const code = await main(args, io.io);
  return { code, ...io.out };
}

/** `run` expected to refuse: if it starts serving instead, it is stopped and the test fails at once (never hangs). */
async function refusedRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(project);
  const exit = main(["run", ...args], io.io);
  const started = await Promise.race([io.ready.then(() => true), exit.then(() => false)]);
  if (started) {
    io.stop();
    await exit;
    assert.fail(`run started instead of refusing: ${io.out.stderr}`);
  }
  return { code: await exit, ...io.out };
}

/** Packages declared.wasm as a layout directory and a .tar; returns the manifest digest. */
async function packaged(): Promise<string> {
  const dir = await cli(["package", "declared.wasm", "-o", "oci"]);
  assert.equal(dir.code, 0, dir.stderr);
  const tar = await cli(["package", "declared.wasm", "-o", "image.tar"]);
  assert.equal(tar.code, 0, tar.stderr);
  return /manifest (sha256:[0-9a-f]{64})/.exec(dir.stdout)![1];
}

describe("deploy checks the configuration against the module's schema", () => {
  const envoy = ["deploy", "--target", "envoy", "--name", "keys"];

  it("envoy: a mismatch is refused with exit 1, the field and the position; nothing is printed", async () => {
    const result = await cli([...envoy, "--wasm", "declared.wasm", "--config", BAD]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, `✗ plugin configuration: ${REFUSAL}\n${carried("declared.wasm")}`);
  });

  it("envoy: a matching configuration is written; --no-config-check lets a mismatch through", async () => {
    const good = await cli([...envoy, "--wasm", "declared.wasm", "--config", GOOD]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /value: '\{"requiredKeys":\["id"\]\}'/);
    const skipped = await cli([...envoy, "--wasm", "declared.wasm", "--config", BAD, "--no-config-check"]);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stdout, /value: '\{"requiredKeys":\[7\]\}'/);
  });

  it("envoy: --config-file is checked the same way, and every problem is listed", async () => {
    writeFileSync(join(project, "bad.json"), '{\n  "requiredKeys": [],\n  "mode": "loose",\n  "colour": "red"\n}\n');
    const result = await cli([...envoy, "--wasm", "declared.wasm", "--config-file", "bad.json"]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `✗ plugin configuration: mode: expected one of "strict", "lenient", got "loose" (3:11)\nplugin configuration: colour: unknown field (4:3)\n${carried("declared.wasm")}`);
  });

  it("a schema file beside the module is used when the module has no section", async () => {
    const result = await cli([...envoy, "--wasm", "beside.wasm", "--config", BAD]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `✗ plugin configuration: ${REFUSAL}\n  (checked against the schema in beside.schema.json; --no-config-check skips the check)\n`);
  });

  it("a module without a schema: envoy takes any text, as Envoy does; Istio still needs JSON, now with a position", async () => {
    const text = await cli([...envoy, "--wasm", "plain.wasm", "--config", "x-hello"]);
    assert.equal(text.code, 0, text.stderr);
    const istio = await cli(["deploy", "--target", "istio-wasmplugin", "--image", `oci://ghcr.io/a/b:1@sha256:${"a".repeat(64)}`, "--wasm", "plain.wasm", "--config", '{"a":}']);
    assert.equal(istio.code, 1);
    assert.equal(istio.stderr, '✗ configuration: not valid JSON: unexpected character "}" (1:6)\n');
  });

  it("a module whose schema is broken is refused, naming the module and why", async () => {
    writeFileSync(join(project, "broken-schema.wasm"), withConfigSchema(TINY_FILTER, { type: "objekt" }));
    const invalid = await cli([...envoy, "--wasm", "broken-schema.wasm", "--config", GOOD]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^✗ broken-schema\.wasm: custom section proxy-wasm-as\.config-schema: the configuration schema is not a valid JSON Schema \(draft 2020-12\): schema is invalid: data\/type must be equal to one of the allowed values.* \(rebuild the module; --no-config-check skips the check\)\n$/);
    writeFileSync(join(project, "not-json-schema.wasm"), withConfigSchema(TINY_FILTER, "{oops"));
    const notJson = await cli([...envoy, "--wasm", "not-json-schema.wasm", "--config", GOOD]);
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /^✗ not-json-schema\.wasm: custom section proxy-wasm-as\.config-schema: the configuration schema is not JSON: .* \(rebuild the module; --no-config-check skips the check\)\n$/);
    assert.equal((await cli([...envoy, "--wasm", "broken-schema.wasm", "--config", GOOD, "--no-config-check"])).code, 0);
  });

  it("envoy: a --wasm that is not here (the path Envoy reads) is noted, not refused", async () => {
    const result = await cli([...envoy, "--wasm", "/etc/envoy/filter.wasm", "--config", BAD]);
    assert.equal(result.code, 0);
    assert.match(result.stderr, /^note: the configuration is not checked against the module's schema: --wasm \/etc\/envoy\/filter\.wasm is not here \(it is the path Envoy reads\)\n/);
  });

  it("istio-wasmplugin: --wasm names the module; without it the image is not pulled, and a note says so", async () => {
    const image = `oci://ghcr.io/acme/keys:1@sha256:${"b".repeat(64)}`;
    const refused = await cli(["deploy", "--target", "istio-wasmplugin", "--image", image, "--wasm", "declared.wasm", "--config", BAD]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `✗ plugin configuration: ${REFUSAL}\n${carried("declared.wasm")}`);
    const unchecked = await cli(["deploy", "--target", "istio-wasmplugin", "--image", image, "--config", BAD]);
    assert.equal(unchecked.code, 0);
    assert.match(unchecked.stderr, new RegExp(`^note: the configuration is not checked against the module's schema: deploy does not pull ${image.replace(/[.:/@]/g, "\\$&")}; give --wasm <the \\.wasm or the layout \`package\` wrote>\\n`));
    const missing = await cli(["deploy", "--target", "istio-wasmplugin", "--image", image, "--wasm", "nope.wasm", "--config", GOOD]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "✗ --wasm nope.wasm not found\n");
  });

  it("istio-trafficextension and envoy-gateway: the layout (directory or .tar) package wrote, pinned to the same digest", async () => {
    const digest = await packaged();
    const image = `oci://ghcr.io/acme/keys:1@${digest}`;
    const traffic = ["deploy", "--target", "istio-trafficextension", "--image", image, "--target-ref", "Gateway/public"];
    const refused = await cli([...traffic, "--wasm", "oci", "--config", BAD]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `✗ plugin configuration: ${REFUSAL}\n${carried("oci")}`);
    const passed = await cli([...traffic, "--wasm", "oci", "--config", GOOD]);
    assert.equal(passed.code, 0, passed.stderr);

    const gateway = ["deploy", "--target", "envoy-gateway", "--image", image, "--target-ref", "HTTPRoute/r"];
    const tarRefused = await cli([...gateway, "--wasm", "image.tar", "--config", BAD]);
    assert.equal(tarRefused.code, 1);
    assert.equal(tarRefused.stderr, `✗ plugin configuration: ${REFUSAL}\n${carried("image.tar")}`);
    assert.equal((await cli([...gateway, "--wasm", "image.tar", "--config", GOOD])).code, 0);

    const other = `oci://ghcr.io/acme/keys:1@sha256:${"c".repeat(64)}`;
    const mismatch = await cli(["deploy", "--target", "envoy-gateway", "--image", other, "--target-ref", "HTTPRoute/r", "--wasm", "oci", "--config", GOOD]);
    assert.equal(mismatch.code, 1);
    assert.equal(mismatch.stderr, `✗ --wasm oci is image ${digest}, but the deploy pins sha256:${"c".repeat(64)}: give the layout of the pushed image\n`);
  });
});

describe("package and push take no configuration; the schema travels with the module", () => {
  it("package puts a schema written beside the module into the image, and deploy --wasm <the image> checks against it", async () => {
    const beside = await cli(["package", "beside.wasm", "-o", "beside-oci"]);
    assert.equal(beside.code, 0, beside.stderr);
    assert.equal(beside.stderr, "");
    assert.match(beside.stdout, /\n {2}schema {3}beside\.schema\.json as plugin\.schema\.json, in a layer before the module's \(pullers read only the last\)\n$/);
    const digest = /manifest (sha256:[0-9a-f]{64})/.exec(beside.stdout)![1];
    const tar = await cli(["package", "beside.wasm", "-o", "beside.tar"]);
    assert.equal(tar.code, 0, tar.stderr);

    const image = `oci://ghcr.io/acme/keys:1@${digest}`;
    const istio = ["deploy", "--target", "istio-wasmplugin", "--image", image];
    const inImage = (module: string) => `  (checked against the schema ${module} carries in plugin.schema.json; --no-config-check skips the check)\n`;
    const refused = await cli([...istio, "--wasm", "beside-oci", "--config", BAD]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, "");
    assert.equal(refused.stderr, `✗ plugin configuration: ${REFUSAL}\n${inImage("beside-oci")}`);
    const tarRefused = await cli([...istio, "--wasm", "beside.tar", "--config", BAD]);
    assert.equal(tarRefused.code, 1);
    assert.equal(tarRefused.stderr, `✗ plugin configuration: ${REFUSAL}\n${inImage("beside.tar")}`);
    assert.equal((await cli([...istio, "--wasm", "beside-oci", "--config", GOOD])).code, 0);
    assert.equal((await cli([...istio, "--wasm", "beside-oci", "--config", BAD, "--no-config-check"])).code, 0);

    // The same module packaged without the file beside it: the image has no schema, so BAD passes as JSON.
    writeFileSync(join(project, "alone.wasm"), TINY_FILTER);
    const alone = await cli(["package", "alone.wasm", "-o", "alone-oci"]);
    assert.doesNotMatch(alone.stdout, /schema /);
    const aloneImage = `oci://ghcr.io/acme/keys:1@${/manifest (sha256:[0-9a-f]{64})/.exec(alone.stdout)![1]}`;
    const unchecked = await cli(["deploy", "--target", "istio-wasmplugin", "--image", aloneImage, "--wasm", "alone-oci", "--config", BAD]);
    assert.equal(unchecked.code, 0, unchecked.stderr);
  });

  it("a module carrying its own section: the section wins and the image has no schema layer", async () => {
    writeFileSync(join(project, "both.wasm"), withConfigSchema(TINY_FILTER, KEYS_SCHEMA));
    writeFileSync(join(project, "both.schema.json"), "{}");
    const both = await cli(["package", "both.wasm", "-o", "both-oci"]);
    assert.equal(both.code, 0, both.stderr);
    assert.equal(both.stderr, "");
    assert.doesNotMatch(both.stdout, /schema /);
    const declared = await cli(["package", "declared.wasm", "-o", "declared-oci"]);
    assert.equal(declared.stderr, "");
    assert.doesNotMatch(declared.stdout, /schema /);
  });

  it("package refuses a schema file beside the module that is not JSON of an object (exit 1, nothing written)", async () => {
    writeFileSync(join(project, "broken.wasm"), TINY_FILTER);
    writeFileSync(join(project, "broken.schema.json"), "[1]");
    const result = await cli(["package", "broken.wasm", "-o", "broken-oci"]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, "✗ broken.schema.json: the configuration schema is not a JSON object (rebuild the module)\n");
    assert.equal(existsSync(join(project, "broken-oci")), false);
  });
});

describe("run checks each filter's configuration before anything listens", () => {
  it("--plugin-config: refused with exit 1, named by the flag and its --wasm", async () => {
    const result = await refusedRun(["--listen", "127.0.0.1:0", "--admin", "off", "--wasm", "hello.wasm", "--plugin-config", BAD]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, `error: --plugin-config of --wasm hello.wasm: ${REFUSAL}\n${carried("hello.wasm")}`);
  });

  it("dev-proxy YAML: a mapping is named by its field, without positions (the bytes are JSON made from it); a string keeps them", async () => {
    writeFileSync(join(project, "proxy.yaml"), `filters:\n  - wasm: hello.wasm\n    configuration: { requiredKeys: [7], extra: 1 }\n  - wasm: hello.wasm\n    configuration: '${BAD}'\n`);
    const result = await refusedRun(["-c", "proxy.yaml", "--listen", "127.0.0.1:0", "--admin", "off"]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      "error: filters[0].configuration: requiredKeys[0]: expected a string, got a number\n" +
        "filters[0].configuration: extra: unknown field\n" +
        carried("hello.wasm") +
        `filters[1].configuration: ${REFUSAL}\n` +
        carried("hello.wasm"),
    );
  });

  it("Envoy bootstrap: the StringValue is checked where it is written", async () => {
    const bootstrap = `static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: backend } }] }] }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: keys
                configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: '${BAD}' }
                vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: hello.wasm } } }
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: backend
    load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } } }] }] }
`;
    writeFileSync(join(project, "envoy.yaml"), bootstrap);
    const result = await refusedRun(["-c", "envoy.yaml", "--admin", "off"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: static_resources\.listeners\[0\]\.\S+\.configuration: requiredKeys\[0\]: expected a string, got a number \(1:18\)\n/);
  });

  it("Envoy bootstrap: a TCP listener's network filter is checked too", async () => {
    writeFileSync(
      join(project, "tcp.yaml"),
      `static_resources:
  listeners:
  - name: tcp_main
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            name: keys
            configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: '{"requiredKeys":"id"}' }
            vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: hello.wasm } } }
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: tcp, cluster: backend }
  clusters:
  - name: backend
    load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } } }] }] }
`,
    );
    const result = await refusedRun(["-c", "tcp.yaml", "--admin", "off"]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `error: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.config.configuration: requiredKeys: expected an array, got a string (1:17)\n${carried("hello.wasm")}`);
  });

  it("Envoy bootstrap: a wasm service's configuration (bootstrap_extensions) is checked too", async () => {
    writeFileSync(
      join(project, "service.yaml"),
      `bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: true
    config:
      name: keys
      configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: '${BAD}' }
      vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: hello.wasm } } }
static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: backend } }] }] }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: backend
    load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } } }] }] }
`,
    );
    const result = await refusedRun(["-c", "service.yaml", "--admin", "off"]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `error: bootstrap_extensions[0].typed_config.config.configuration: ${REFUSAL}\n${carried("hello.wasm")}`);
  });

  it("a matching configuration starts the proxy, and so does a mismatch with --no-config-check", async () => {
    for (const args of [["--plugin-config", GOOD], ["--plugin-config", BAD, "--no-config-check"]]) {
      const io = captureIo(project);
      const exit = main(["run", "--listen", "127.0.0.1:0", "--admin", "off", "--log-level", "off", "--wasm", "hello.wasm", ...args], io.io);
      try {
        await Promise.race([io.ready, exit.then((code) => assert.fail(`run exited early with ${code}: ${io.out.stderr}`))]);
        assert.match(io.out.stdout, /^dev proxy listening on http:\/\/127\.0\.0\.1:\d+/);
      } finally {
        io.stop();
        assert.equal(await exit, 0);
      }
    }
  });
});
