import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../src/cli/main";
import { buildCompatImage, configSchemaFromImage, readImageLayout, readImageLayoutTar, readTar, sha256Digest, sha256Hex, wasmFromCompatLayer } from "../../src/oci";
import { gunzipSync } from "node:zlib";
import { startFakeRegistry } from "../oci/fake-registry";
import { NO_ABI_MARKER, TINY_FILTER } from "../oci/fixture-wasm";
import { routeOriginsToLoopback } from "../oci/loopback-routes";
import { captureIo } from "./cli-test-io";

const project = mkdtempSync(join(tmpdir(), "pwas-ppd-"));
after(() => rmSync(project, { recursive: true, force: true }));
writeFileSync(join(project, "tiny.wasm"), TINY_FILTER);
writeFileSync(join(project, "broken.wasm"), NO_ABI_MARKER);
// add_header keeps its schema in a file beside the module to stay within 8 KiB (its asconfig uses PROXY_WASM_AS_CONFIG_SCHEMA_FILE=1).
const ADD_HEADER_BUILD = join(import.meta.dirname, "../../examples/add_header/build");
mkdirSync(join(project, "build"), { recursive: true });
copyFileSync(join(ADD_HEADER_BUILD, "add_header.wasm"), join(project, "build/add_header.wasm"));
copyFileSync(join(ADD_HEADER_BUILD, "add_header.schema.json"), join(project, "build/add_header.schema.json"));

describe("proxy-wasm-as package / push / deploy", () => {
  it("package writes a layout and prints the manifest digest next to the module sha256", async () => {
    const cli = captureIo(project);
    assert.equal(await main(["package", "tiny.wasm", "--tag", "acme/tiny:1.0", "-o", "out/layout"], cli.io), 0, cli.out.stderr);
    const image = buildCompatImage(TINY_FILTER, { annotations: { "org.opencontainers.image.title": "tiny", "org.opencontainers.image.version": "1.0" } });
    assert.equal(
      cli.out.stdout,
      `✓ tiny.wasm → out/layout (OCI image layout, compat)\n` +
        `  manifest ${image.manifestDigest}  (pin @sha256:, Istio sha256, Envoy Gateway image.sha256)\n` +
        `  wasm     sha256 ${sha256Hex(TINY_FILTER)}  (http/file code sources)\n`,
    );
    assert.deepEqual(readFileSync(join(project, "out/layout/blobs/sha256", image.manifestDigest.slice(7))), image.manifestBytes);
  });

  it("package puts add_header's schema file into the image beside the module; push sends it; deploy --wasm <the image> refuses a bad configuration with it", async () => {
    const wasm = readFileSync(join(project, "build/add_header.wasm"));
    const schema = readFileSync(join(project, "build/add_header.schema.json"));
    const cli = captureIo(project);
    assert.equal(await main(["package", "build/add_header.wasm", "-o", "out/add_header.tar"], cli.io), 0, cli.out.stderr);
    assert.equal(cli.out.stderr, "");
    const image = readImageLayoutTar(readFileSync(join(project, "out/add_header.tar")), "out/add_header.tar");
    const plain = buildCompatImage(wasm, { annotations: { "org.opencontainers.image.title": "add_header" } });
    assert.equal(
      cli.out.stdout,
      `✓ build/add_header.wasm → out/add_header.tar (OCI image layout tar, compat)\n` +
        `  manifest ${image.manifestDigest}  (pin @sha256:, Istio sha256, Envoy Gateway image.sha256)\n` +
        `  wasm     sha256 ${sha256Hex(wasm)}  (http/file code sources)\n` +
        `  schema   build/add_header.schema.json as plugin.schema.json, in a layer before the module's (pullers read only the last)\n`,
    );
    // Two tar+gzip layers; the last is the module's, identical to the image built without the schema.
    const [schemaLayer, wasmLayer] = image.manifest.layers;
    assert.equal(image.manifest.layers.length, 2);
    assert.deepEqual(wasmLayer, plain.manifest.layers[0]);
    assert.deepEqual(schemaLayer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.deepEqual(schemaLayer.annotations, { "org.opencontainers.image.title": "plugin.schema.json" });
    const blob = (digest: string) => image.blobs.find((b) => b.descriptor.digest === digest)!.bytes;
    assert.equal(sha256Digest(blob(schemaLayer.digest)), schemaLayer.digest);
    assert.deepEqual(readTar(gunzipSync(blob(schemaLayer.digest))).map((entry) => [entry.name, Buffer.from(entry.data!)]), [["plugin.schema.json", schema]]);
    assert.deepEqual(Buffer.from(wasmFromCompatLayer(blob(wasmLayer.digest))), wasm);
    assert.deepEqual(Buffer.from(configSchemaFromImage(image)!), schema);

    // The layout directory is the same image; deploy checks against the schema in it (not the file beside the .wasm).
    const dir = captureIo(project);
    assert.equal(await main(["package", "build/add_header.wasm", "-o", "out/add_header-oci"], dir.io), 0, dir.out.stderr);
    assert.equal(readImageLayout(join(project, "out/add_header-oci")).manifestDigest, image.manifestDigest);
    rmSync(join(project, "build/add_header.schema.json"));
    const pinned = `oci://ghcr.io/acme/add-header:1@${image.manifestDigest}`;
    const deploy = ["deploy", "--target", "istio-wasmplugin", "--name", "add-header", "--image", pinned, "--wasm", "out/add_header-oci"];
    const refused = captureIo(project);
    assert.equal(await main([...deploy, "--config", '{"name":"x-team","valu":"a"}'], refused.io), 1);
    assert.equal(refused.out.stdout, "");
    assert.equal(
      refused.out.stderr,
      "✗ plugin configuration: valu: unknown field (1:18)\n  (checked against the schema out/add_header-oci carries in plugin.schema.json; --no-config-check skips the check)\n",
    );
    const accepted = captureIo(project);
    assert.equal(await main([...deploy, "--config", '{"name":"x-team","value":"a"}'], accepted.io), 0, accepted.out.stderr);

    // push of the package -o tar sends all three blobs and the manifest unchanged.
    const registry = await startFakeRegistry();
    try {
      const push = captureIo(project);
      assert.equal(await main(["push", "out/add_header.tar", `${registry.host}/acme/add-header:1`, "--insecure"], push.io), 0, push.out.stderr);
      assert.equal(push.out.stdout, `oci://${registry.host}/acme/add-header:1@${image.manifestDigest}\n`);
      assert.deepEqual(registry.blobs.get(schemaLayer.digest), blob(schemaLayer.digest));
      assert.deepEqual(registry.blobs.get(wasmLayer.digest), blob(wasmLayer.digest));
    } finally {
      await registry.close();
      copyFileSync(join(ADD_HEADER_BUILD, "add_header.schema.json"), join(project, "build/add_header.schema.json"));
    }
  });

  it("push of a .wasm with a schema file beside it pushes the image package builds, schema layer included", async () => {
    const registry = await startFakeRegistry();
    try {
      const cli = captureIo(project);
      assert.equal(await main(["push", "build/add_header.wasm", `${registry.host}/acme/add-header:2`, "--insecure"], cli.io), 0, cli.out.stderr);
      const wasm = readFileSync(join(project, "build/add_header.wasm"));
      const expected = buildCompatImage(wasm, {
        annotations: { "org.opencontainers.image.title": "add-header", "org.opencontainers.image.version": "2" },
        configSchema: readFileSync(join(project, "build/add_header.schema.json")),
      });
      assert.equal(cli.out.stdout, `oci://${registry.host}/acme/add-header:2@${expected.manifestDigest}\n`);
      assert.match(cli.out.stderr, /^the image carries build\/add_header\.schema\.json as plugin\.schema\.json, in a layer before the module's\npushing build\/add_header\.wasm/);
      for (const blob of expected.blobs) assert.deepEqual(registry.blobs.get(blob.descriptor.digest), blob.bytes);
    } finally {
      await registry.close();
    }
  });

  it("package refuses a module Envoy would refuse, with cpp-host's message", async () => {
    const cli = captureIo(project);
    assert.equal(await main(["package", "broken.wasm"], cli.io), 1);
    assert.match(cli.out.stderr, /^✗ broken\.wasm would not load in Envoy:\n {2}Missing or unknown Proxy-Wasm ABI version\n/);
    assert.equal(cli.out.stdout, "");
  });

  it("package: bad --annotation and --tag are usage errors", async () => {
    const cli = captureIo(project);
    assert.equal(await main(["package", "tiny.wasm", "--annotation", "novalue"], cli.io), 2);
    assert.match(cli.out.stderr, /^error: --annotation: expected key=value, got "novalue"\n\nUsage: proxy-wasm-as package/);
  });

  it("push packages a .wasm, pushes it and prints the pinned URL; credentials come from the env", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "basic", username: "ci", password: "pw" } });
    try {
      const cli = captureIo(project);
      cli.io.env = { PWAS_REGISTRY: registry.host, PWAS_REGISTRY_USERNAME: "ci", PWAS_REGISTRY_PASSWORD: "pw" };
      assert.equal(await main(["push", "tiny.wasm", `${registry.host}/acme/filter:1.0`, "--insecure"], cli.io), 0, cli.out.stderr);
      const digest = buildCompatImage(TINY_FILTER, { annotations: { "org.opencontainers.image.title": "filter", "org.opencontainers.image.version": "1.0" } }).manifestDigest;
      assert.equal(cli.out.stdout, `oci://${registry.host}/acme/filter:1.0@${digest}\n`);
      assert.match(cli.out.stderr, new RegExp(`^pushing tiny\\.wasm to ${registry.host}/acme/filter:1\\.0 as ci \\(env\\)\n`));
    } finally {
      await registry.close();
    }
  });

  for (const scope of [undefined, "ghcr.io"]) {
    it(`push does not send PWAS_REGISTRY_USERNAME/PASSWORD to a registry PWAS_REGISTRY does not name (${scope === undefined ? "unset" : scope}), and says so`, async () => {
      // The registry would accept exactly these credentials: without them the push stops at 401.
      const registry = await startFakeRegistry({ auth: { kind: "basic", username: "ci", password: "secret-pw" } });
      try {
        const cli = captureIo(project);
        cli.io.env = { PWAS_REGISTRY_USERNAME: "ci", PWAS_REGISTRY_PASSWORD: "secret-pw", ...(scope === undefined ? {} : { PWAS_REGISTRY: scope }) };
        assert.equal(await main(["push", "tiny.wasm", `${registry.host}/acme/filter:1.0`, "--insecure"], cli.io), 1, cli.out.stderr);
        assert.equal(cli.out.stdout, "");
        assert.ok(registry.requests.length > 0);
        assert.deepEqual(registry.requests.filter((r) => r.authorization !== undefined), [], "no request carried credentials");
        const why = scope === undefined ? `set PWAS_REGISTRY to the registry they are for (PWAS_REGISTRY=${registry.host} for this push)` : `they are for ghcr.io (PWAS_REGISTRY), not ${registry.host}`;
        assert.equal(
          cli.out.stderr,
          `note: PWAS_REGISTRY_USERNAME/PWAS_REGISTRY_PASSWORD are not used: ${why}\n` +
            `pushing tiny.wasm to ${registry.host}/acme/filter:1.0\n` +
            `✗ push failed: ${registry.host} requires a user name and password (Basic auth); none found\n`,
        );
        assert.doesNotMatch(cli.out.stderr, /secret-pw/);
      } finally {
        await registry.close();
      }
    });
  }

  it("push of a layout directory uses ~/.docker/config.json auths and reports a 415", async () => {
    const registry = await startFakeRegistry({ auth: { kind: "basic", username: "d", password: "cfg" }, refuseManifests: true });
    try {
      const home = join(project, "home");
      mkdirSync(join(home, ".docker"), { recursive: true });
      writeFileSync(join(home, ".docker/config.json"), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from("d:cfg").toString("base64") } } }));
      const cli = captureIo(project);
      cli.io.env = { HOME: home };
      assert.equal(await main(["push", "out/layout", `${registry.host}/acme/filter:1.0`, "--insecure"], cli.io), 1);
      assert.equal(cli.out.stdout, "");
      assert.match(cli.out.stderr, /as d \(docker-config\)\n/);
      assert.match(cli.out.stderr, /✗ push failed: push manifest 1\.0: HTTP 415 \(the registry refused the media type\): MANIFEST_INVALID: manifest invalid: media type not allowed\n/);
      assert.equal(registry.blobs.size, 2);
    } finally {
      await registry.close();
    }
  });

  it("push: a reference without a tag is a usage error", async () => {
    const cli = captureIo(project);
    assert.equal(await main(["push", "tiny.wasm", "127.0.0.1:5000/acme/filter"], cli.io), 2);
    assert.match(cli.out.stderr, /^error: give a tag and no digest: registry\/repo:tag \(got "127\.0\.0\.1:5000\/acme\/filter"\)\n/);
  });

  it("push refuses an off-site token realm (exit 1, the realm gets nothing); --trust-realm lets it through; a bad --trust-realm is a usage error", async () => {
    // The rule and its sources: tests/oci/credential-scope.test.ts.
    const registry = await startFakeRegistry({ auth: { kind: "bearer", username: "ci", password: "pw" } });
    const restore = routeOriginsToLoopback({ [`http://${registry.host}`]: `http://${registry.host}`, "https://auth.evil.test": `http://${registry.otherHost}` });
    try {
      registry.divert.realm = "https://auth.evil.test/token";
      const push = ["push", "tiny.wasm", `${registry.host}/acme/filter:1.0`, "--insecure", "--username", "ci", "--password", "pw"];
      let cli = captureIo(project);
      assert.equal(await main(push, cli.io), 1);
      assert.equal(cli.out.stdout, "");
      assert.equal(
        cli.out.stderr,
        `pushing tiny.wasm to ${registry.host}/acme/filter:1.0 as ci (flags)\n` +
          `✗ push failed: get token: the token realm https://auth.evil.test is not on 127.0.0.1's site, so push does not send it the credentials given for http://${registry.host} (pass --trust-realm https://auth.evil.test to allow it)\n`,
      );
      assert.deepEqual(registry.requests.map((r) => r.origin), ["registry"]);

      cli = captureIo(project);
      assert.equal(await main([...push, "--trust-realm", "https://auth.evil.test/any/path"], cli.io), 0, cli.out.stderr);
      assert.deepEqual(
        registry.requests.filter((r) => r.origin === "other").map((r) => `${r.url} ${r.authorization}`),
        [`/token?service=fake-registry&scope=repository%3Aacme%2Ffilter%3Apull%2Cpush Basic ${Buffer.from("ci:pw").toString("base64")}`],
      );

      cli = captureIo(project);
      assert.equal(await main([...push, "--trust-realm", "auth.evil.test"], cli.io), 2);
      assert.match(cli.out.stderr, /^error: --trust-realm: not a URL: "auth\.evil\.test" \(expected an origin such as https:\/\/auth\.example\.com\)\n/);
    } finally {
      restore();
      await registry.close();
    }
  });

  it("deploy prints the golden WasmPlugin, and writes the Envoy bootstrap with -o", async () => {
    const image = "oci://ghcr.io/acme/add-header:1.0.0@sha256:3f1b9ee4b6a5b2c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
    const config = '{"header":"x-hello","value":"world"}';
    let cli = captureIo(project);
    const args = ["deploy", "--target", "istio-wasmplugin", "--name", "add-header", "--namespace", "istio-system", "--image", image, "--root-id", "add_header", "--config", config];
    const more = ["--failure-policy", "FAIL_RELOAD", "--phase", "STATS", "--priority", "10", "--selector", "istio=ingressgateway", "--match-mode", "SERVER", "--match-port", "8080"];
    assert.equal(await main([...args, ...more], cli.io), 0, cli.out.stderr);
    assert.equal(cli.out.stdout, readFileSync(new URL("../deploy/golden/istio-wasmplugin.yaml", import.meta.url), "utf8"));
    assert.equal(
      cli.out.stderr,
      `note: the configuration is not checked against the module's schema: deploy does not pull ${image}; give --wasm <the .wasm or the layout \`package\` wrote>\n` +
        "logs: istioctl proxy-config log <pod> --level wasm:debug (Istio's default level hides info)\n",
    );

    cli = captureIo(project);
    const envoy = ["deploy", "--target", "envoy", "--name", "add-header", "--root-id", "add_header", "--wasm", "build/add-header.wasm", "--config", config];
    assert.equal(await main([...envoy, "--cluster", "auth=https://auth.example.com", "--cluster", "grpc_backend=grpc://127.0.0.1:50051", "-o", "envoy.yaml"], cli.io), 0, cli.out.stderr);
    assert.equal(cli.out.stdout, "✓ wrote envoy.yaml (envoy)\n  run: envoy -c envoy.yaml --concurrency 1 --component-log-level wasm:debug\n");
    assert.equal(readFileSync(join(project, "envoy.yaml"), "utf8"), readFileSync(new URL("../deploy/golden/envoy.yaml", import.meta.url), "utf8"));
  });

  it("deploy refuses an unpinned image (exit 1) and an unknown target (exit 2)", async () => {
    let cli = captureIo(project);
    assert.equal(await main(["deploy", "--target", "envoy-gateway", "--image", "ghcr.io/a/b:1", "--target-ref", "HTTPRoute/r"], cli.io), 1);
    assert.equal(cli.out.stderr, '✗ image "ghcr.io/a/b:1" is not pinned: use the oci://…@sha256:… URL printed by `push`, or --sha256 (or --allow-unpinned)\n');
    cli = captureIo(project);
    assert.equal(await main(["deploy", "--target", "kong"], cli.io), 2);
    assert.match(cli.out.stderr, /^error: --target: unknown target "kong" \(envoy, istio-wasmplugin, istio-trafficextension, envoy-gateway\)\n/);
  });
});
