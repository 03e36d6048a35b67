import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import { parseFlags } from "../parse-flags";
import { loadCheckedModule, ModuleLoadError } from "../../host/module";
import { buildCompatImage, CONFIG_SCHEMA_FILE_NAME, imageLayoutTar, isTarArchive, parseImageTag, writeImageLayout, type CompatImage, type ImageTag } from "../../oci";
import { UsageError, type CliIo } from "../cli-io";
import { styleFor } from "../terminal-style";
import { ConfigSchemaError, configSchemaFilePath } from "../../config/module-config-schema";
import { besideSchemaForImage } from "../configuration-check";

export const PACKAGE_USAGE = `Usage: proxy-wasm-as package <file.wasm> [options]

Builds the "compat" OCI image of a filter (one tar+gzip layer holding plugin.wasm), the format
Istio, Envoy Gateway and Higress pull, without docker and reproducibly. Checks first that Envoy
would load the module. Prints the manifest digest (for @sha256: pins, Istio sha256, Envoy Gateway
image.sha256) and the module's sha256 (for http/file code sources).

When the build wrote the configuration schema beside the module (<name>.schema.json), the image
carries it as plugin.schema.json in a layer before the module's, which pullers do not read;
deploy --wasm <the image> checks configurations against it.

Options:
  -o, --out <dir|file.tar>   an OCI image layout directory, or a tar of it when the name ends in
                             .tar (default: build/oci)
  --tag <name:tag>           name the image in index.json (ref name and containerd image name);
                             also sets the title and version annotations
  --annotation <key=value>   add a manifest annotation (repeatable)
  -h, --help                 this help
`;

/** `package`: 0 when the image was written, 1 when the module would not load or cannot be read, 2 on a usage error. */
export async function packageCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      tag: { type: "string" },
      annotation: { type: "string", multiple: true },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(PACKAGE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`package takes one .wasm file, got ${positionals.length}`);
  const tag = values.tag === undefined ? undefined : parseImageTag(values.tag);
  if (values.tag !== undefined && tag === undefined) throw new UsageError(`--tag: expected name:tag (lower-case name), got "${values.tag}"`);
  const annotations = parseAnnotations(values.annotation ?? []);

  const wasmPath = resolve(io.cwd, positionals[0]);
  const wasm = readCheckedWasm(io, wasmPath);
  if (wasm === null) return 1;
  const schema = readBesideSchema(io, wasmPath, wasm);
  if (schema === null) return 1;
  const image = buildCompatImage(wasm, { annotations: { ...defaultAnnotations(wasmPath, tag), ...annotations }, configSchema: schema?.bytes });

  const out = resolve(io.cwd, values.out ?? "build/oci");
  if (out.endsWith(".tar")) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, imageLayoutTar(image, tag));
  } else {
    writeImageLayout(out, image, tag);
  }
  printImage(io, `${shown(io, wasmPath)} → ${shown(io, out)} (OCI image layout${out.endsWith(".tar") ? " tar" : ""}, compat)`, image, schema?.path);
  return 0;
}

/**
 * The schema file beside the module that the image is to carry (undefined when there is none, or
 * the module carries its own section), or null after printing why the file cannot be packaged.
 */
export function readBesideSchema(io: CliIo, wasmPath: string, wasm: Uint8Array): { path: string; bytes: Uint8Array } | undefined | null {
  try {
    return besideSchemaForImage(wasmPath, wasm);
  } catch (error) {
    if (!(error instanceof ConfigSchemaError)) throw error;
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("✗")} ${error.message.replace(configSchemaFilePath(wasmPath), shown(io, configSchemaFilePath(wasmPath)))} (rebuild the module)\n`);
    return null;
  }
}

/** Prints the two digests users need, each with where it goes, and the schema file the image carries (`schemaPath`). */
export function printImage(io: CliIo, headline: string, image: CompatImage, schemaPath?: string): void {
  io.stdout.write(`${styleFor(io.stdout, io.env).ok("✓")} ${headline}\n`);
  io.stdout.write(`  manifest ${image.manifestDigest}  (pin @sha256:, Istio sha256, Envoy Gateway image.sha256)\n`);
  io.stdout.write(`  wasm     sha256 ${image.wasmDigest.slice("sha256:".length)}  (http/file code sources)\n`);
  if (schemaPath !== undefined) io.stdout.write(`  schema   ${shown(io, schemaPath)} as ${CONFIG_SCHEMA_FILE_NAME}, in a layer before the module's (pullers read only the last)\n`);
}

/**
 * The title/version annotations: the image name's last component (or the file name) and the tag.
 * `org.opencontainers.image.created` is left out on purpose: it would make the digest change on
 * every run.
 */
export function defaultAnnotations(wasmPath: string, tag: ImageTag | undefined): Record<string, string> {
  const title = tag ? tag.name.split("/").pop()! : basename(wasmPath).replace(/\.wasm$/, "");
  const annotations: Record<string, string> = { "org.opencontainers.image.title": title };
  if (tag) annotations["org.opencontainers.image.version"] = tag.tag;
  return annotations;
}

/** Parses repeated `key=value` flags. */
export function parseAnnotations(items: string[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--annotation: expected key=value, got "${item}"`);
    annotations[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return annotations;
}

/**
 * Reads a module and runs Envoy's load checks on it. Returns its bytes, or null after printing
 * why it cannot be read or would not load (cpp-host's message first, then hints).
 */
export function readCheckedWasm(io: CliIo, path: string): Uint8Array | null {
  if (!existsSync(path)) {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} ${shown(io, path)} not found\n`);
    return null;
  }
  const bytes = readFileSync(path);
  if (isTarArchive(bytes)) {
    io.stderr.write(
      `${styleFor(io.stderr, io.env).fail("✗")} ${shown(io, path)} is an OCI image archive (as \`package -o x.tar\` writes), not a .wasm module.\n` +
        `  Push it as it is: proxy-wasm-as push ${shown(io, path)} <registry/repo:tag>; package the .wasm itself to build an image.\n`,
    );
    return null;
  }
  try {
    loadCheckedModule(bytes);
  } catch (error) {
    if (!(error instanceof ModuleLoadError)) throw error;
    const report = error.report
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\n");
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("✗")} ${shown(io, path)} would not load in Envoy:\n${report}\n`);
    return null;
  }
  return new Uint8Array(bytes);
}

function shown(io: CliIo, path: string): string {
  return relative(io.cwd, path) || path;
}
