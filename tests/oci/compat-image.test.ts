import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { after, describe, it } from "node:test";
import {
  buildCompatImage,
  configSchemaFromImage,
  moduleLayer,
  imageLayoutTar,
  parseImageTag,
  readImageLayout,
  readImageLayoutTar,
  readTar,
  sha256Digest,
  wasmFromCompatLayer,
  writeImageLayout,
  writeTar,
} from "../../src/oci";
import { TINY_FILTER } from "./fixture-wasm";

const dir = mkdtempSync(join(tmpdir(), "pwas-oci-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("ustar writer", () => {
  it("writes a header GNU tar and readers agree on: name, mode, uid/gid 0, size, mtime 0, checksum", () => {
    const tar = writeTar([{ name: "plugin.wasm", data: Buffer.from("\0asm") }]);
    assert.equal(tar.length, 512 + 512 + 1024);
    assert.equal(tar.subarray(0, 11).toString(), "plugin.wasm");
    assert.equal(tar.subarray(100, 108).toString("latin1"), "0000644\0");
    assert.equal(tar.subarray(108, 116).toString("latin1"), "0000000\0");
    assert.equal(tar.subarray(124, 136).toString("latin1"), "00000000004\0");
    assert.equal(tar.subarray(136, 148).toString("latin1"), "00000000000\0");
    assert.equal(tar.subarray(257, 265).toString("latin1"), "ustar\x0000");
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : tar[i];
    assert.equal(tar.subarray(148, 156).toString("latin1"), `${sum.toString(8).padStart(6, "0")}\0 `);
    assert.equal(tar.subarray(512, 516).toString("latin1"), "\0asm");
    assert.ok(tar.subarray(1024).every((b) => b === 0));
  });

  it("round-trips files, directories and long names through readTar", () => {
    const long = `blobs/sha256/${"a".repeat(64)}/${"b".repeat(90)}`;
    const entries = readTar(writeTar([{ name: "blobs/" }, { name: long, data: Buffer.alloc(700, 7) }]));
    assert.deepEqual(
      entries.map((e) => [e.name, e.data?.length, e.mode, e.mtime]),
      [
        ["blobs/", undefined, 0o755, 0],
        [long, 700, 0o644, 0],
      ],
    );
    assert.ok(entries[1].data!.every((b) => b === 7));
  });

  it("rejects a corrupted header", () => {
    const tar = writeTar([{ name: "x", data: Buffer.from("y") }]);
    tar[0] = "z".charCodeAt(0);
    assert.throws(() => readTar(tar), /tar: bad header checksum at offset 0/);
  });
});

describe("compat image", () => {
  it("is reproducible and has the compat shape: one tar+gzip layer with plugin.wasm, OCI config, variant annotation", () => {
    const a = buildCompatImage(TINY_FILTER, { annotations: { "org.opencontainers.image.title": "tiny" } });
    const b = buildCompatImage(TINY_FILTER, { annotations: { "org.opencontainers.image.title": "tiny" } });
    assert.equal(a.manifestDigest, b.manifestDigest);
    assert.deepEqual(a.blobs.map((x) => x.bytes), b.blobs.map((x) => x.bytes));
    const [config, layer] = a.blobs;
    assert.equal(a.manifestDigest, sha256Digest(a.manifestBytes));
    assert.deepEqual(JSON.parse(a.manifestBytes.toString()), {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Digest(config.bytes), size: config.bytes.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Digest(layer.bytes), size: layer.bytes.length }],
      annotations: { "module.wasm.image/variant": "compat", "org.opencontainers.image.title": "tiny" },
    });
    const tar = gunzipSync(layer.bytes);
    assert.deepEqual(JSON.parse(config.bytes.toString()), { architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] } });
    // gzip header: magic, deflate, no flags, mtime 0
    assert.deepEqual([...layer.bytes.subarray(0, 8)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    assert.deepEqual(Buffer.from(wasmFromCompatLayer(layer.bytes)), Buffer.from(TINY_FILTER));
    assert.equal(a.wasmDigest, sha256Digest(TINY_FILTER));
  });

  it("layer check refuses a layer without plugin.wasm, or whose plugin.wasm is not Wasm", () => {
    assert.throws(() => wasmFromCompatLayer(gzipSync(writeTar([{ name: "main.wasm", data: TINY_FILTER }]))), /^Error: layer has no plugin\.wasm \(members: main\.wasm\)$/);
    assert.throws(() => wasmFromCompatLayer(gzipSync(writeTar([{ name: "plugin.wasm", data: Buffer.from("MZ") }]))), /plugin\.wasm does not start with \\0asm/);
    assert.throws(() => wasmFromCompatLayer(Buffer.from("plain")), /layer is not gzip/);
  });

  it("writes an OCI layout that reads back to the same image, and a tar of the same files", () => {
    const image = buildCompatImage(TINY_FILTER);
    const tag = parseImageTag("acme/tiny:1.2.0")!;
    const layout = join(dir, "layout");
    writeImageLayout(layout, image, tag);
    assert.equal(readFileSync(join(layout, "oci-layout"), "utf8"), '{"imageLayoutVersion":"1.0.0"}');
    assert.deepEqual(JSON.parse(readFileSync(join(layout, "index.json"), "utf8")), {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: image.manifestDigest,
          size: image.manifestBytes.length,
          annotations: { "io.containerd.image.name": "acme/tiny:1.2.0", "org.opencontainers.image.ref.name": "1.2.0" },
        },
      ],
    });
    const back = readImageLayout(layout);
    assert.equal(back.manifestDigest, image.manifestDigest);
    assert.deepEqual(back.manifestBytes, image.manifestBytes);
    assert.deepEqual(back.blobs.map((b) => b.bytes), image.blobs.map((b) => b.bytes));

    const archive = readTar(imageLayoutTar(image, tag));
    assert.deepEqual(archive.slice(0, 4).map((e) => e.name), ["oci-layout", "index.json", "blobs/", "blobs/sha256/"]);
    for (const entry of archive.filter((e) => e.data)) assert.deepEqual(Buffer.from(entry.data!), readFileSync(join(layout, entry.name)));
    assert.equal(archive.length, 7);
  });

  it("refuses a layout whose blob was tampered with", () => {
    const image = buildCompatImage(TINY_FILTER);
    const layout = join(dir, "tampered");
    writeImageLayout(layout, image);
    const layer = image.blobs[1].descriptor.digest;
    writeFileSync(join(layout, "blobs/sha256", layer.slice(7)), "x");
    assert.throws(() => readImageLayout(layout), new RegExp(`blob ${layer} in .* does not match its digest or size`));
    assert.throws(() => readImageLayout(dir), /is not an OCI image layout \(no oci-layout file\)/);
  });

  it("parses name:tag, defaulting the tag, and refuses bad ones", () => {
    assert.deepEqual(parseImageTag("ghcr.io/acme/f:v1"), { name: "ghcr.io/acme/f", tag: "v1" });
    assert.deepEqual(parseImageTag("acme/f"), { name: "acme/f", tag: "latest" });
    assert.equal(parseImageTag("Acme/F:v1"), undefined);
    assert.equal(parseImageTag("acme/f:bad tag"), undefined);
  });
});

describe("compat image carrying the configuration schema beside the module", () => {
  const schema = Buffer.from('{"type":"object","properties":{"name":{"type":"string"}}}');
  const annotations = { "org.opencontainers.image.title": "tiny" };

  it("adds a tar+gzip layer holding only plugin.schema.json before the module's layer, which is byte for byte the layer without it", () => {
    const plain = buildCompatImage(TINY_FILTER, { annotations });
    const image = buildCompatImage(TINY_FILTER, { annotations, configSchema: schema });
    const [config, schemaLayer, wasmLayer] = image.blobs;
    assert.equal(image.blobs.length, 3);
    assert.deepEqual(wasmLayer, plain.blobs[1]);
    assert.equal(image.wasmDigest, plain.wasmDigest);
    const schemaTar = gunzipSync(schemaLayer.bytes);
    assert.deepEqual(JSON.parse(image.manifestBytes.toString()), {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Digest(config.bytes), size: config.bytes.length },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Digest(schemaLayer.bytes), size: schemaLayer.bytes.length, annotations: { "org.opencontainers.image.title": "plugin.schema.json" } },
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Digest(wasmLayer.bytes), size: wasmLayer.bytes.length },
      ],
      annotations: { "module.wasm.image/variant": "compat", "org.opencontainers.image.title": "tiny" },
    });
    // An ordinary two-layer image: one diff_id per layer, in order (docker/podman pull it).
    assert.deepEqual(JSON.parse(config.bytes.toString()).rootfs, { type: "layers", diff_ids: [sha256Digest(schemaTar), sha256Digest(gunzipSync(wasmLayer.bytes))] });
    assert.deepEqual(
      readTar(schemaTar).map((entry) => [entry.name, Buffer.from(entry.data!).toString()]),
      [["plugin.schema.json", schema.toString()]],
    );
    assert.notEqual(image.manifestDigest, plain.manifestDigest);
    assert.equal(buildCompatImage(TINY_FILTER, { annotations, configSchema: schema }).manifestDigest, image.manifestDigest);
  });

  it("keeps Istio's loader rules: the last layer is tar+gzip with plugin.wasm, and it is the only layer that holds one", () => {
    const image = buildCompatImage(TINY_FILTER, { configSchema: schema });
    const layers = image.manifest.layers;
    // istio pkg/wasm/imagefetcher.go (extractOCIStandardImage): layers[len-1], media type OCI tar+gzip, member with basename plugin.wasm.
    assert.equal(layers[layers.length - 1].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.deepEqual(Buffer.from(wasmFromCompatLayer(moduleLayer(image)!)), Buffer.from(TINY_FILTER));
    const holdingWasm = image.blobs.slice(1).filter((blob) => readTar(gunzipSync(blob.bytes)).some((entry) => entry.name === "plugin.wasm"));
    assert.deepEqual(holdingWasm.map((blob) => blob.descriptor.digest), [layers[layers.length - 1].digest]);
    // The solo "oci" variant's raw wasm layer type appears nowhere, so the fetcher's compat path is the one that succeeds.
    assert.ok(layers.every((layer) => layer.mediaType !== "application/vnd.module.wasm.content.layer.v1+wasm"));
  });

  it("reads the schema back from a layout directory and a layout tar; an image without it has none", () => {
    const image = buildCompatImage(TINY_FILTER, { configSchema: schema });
    const layout = join(dir, "with-schema");
    writeImageLayout(layout, image);
    const fromDir = readImageLayout(layout);
    assert.equal(fromDir.manifestDigest, image.manifestDigest);
    assert.equal(Buffer.from(configSchemaFromImage(fromDir)!).toString(), schema.toString());
    const fromTar = readImageLayoutTar(imageLayoutTar(image), "with-schema.tar");
    assert.equal(Buffer.from(configSchemaFromImage(fromTar)!).toString(), schema.toString());
    assert.equal(configSchemaFromImage(buildCompatImage(TINY_FILTER)), undefined);
  });

  it("reads plugin.schema.json only from layers before the module's, skips other media types, and refuses a tar+gzip layer that is not gzip", () => {
    const plain = buildCompatImage(TINY_FILTER);
    const wasmLayer = plain.blobs[1];
    const inModuleLayer = buildCompatImage(TINY_FILTER, { runtimeConfig: schema });
    assert.equal(configSchemaFromImage(inModuleLayer), undefined);
    const foreign = { descriptor: { mediaType: "application/vnd.example+json", digest: sha256Digest(schema), size: schema.length }, bytes: schema };
    assert.equal(configSchemaFromImage({ manifest: { layers: [foreign.descriptor, wasmLayer.descriptor] }, blobs: [foreign, wasmLayer] }), undefined);
    const notGzip = { descriptor: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Digest(schema), size: schema.length }, bytes: schema };
    assert.throws(() => configSchemaFromImage({ manifest: { layers: [notGzip.descriptor, wasmLayer.descriptor] }, blobs: [notGzip, wasmLayer] }), new RegExp(`^Error: layer ${notGzip.descriptor.digest} is not gzip: `));
  });
});
