import { existsSync, readFileSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { parseFlags } from "../parse-flags";
import {
  buildCompatImage,
  findCredentials,
  formatReference,
  isTarArchive,
  parseImageReference,
  pushImage,
  readImageLayout,
  readImageLayoutTar,
  RegistryError,
  type PushableImage,
} from "../../oci";
import { UsageError, type CliIo } from "../cli-io";
import { styleFor } from "../terminal-style";
import { defaultAnnotations, readBesideSchema, readCheckedWasm } from "./package";

export const PUSH_USAGE = `Usage: proxy-wasm-as push <file.wasm|layout dir|layout .tar> <registry/repo:tag> [options]

Pushes a filter as a compat OCI image (a .wasm is packaged first, as \`package\` does, with the
<name>.schema.json beside it as plugin.schema.json; a
directory or a .tar must be an OCI image layout written by \`package\` / \`package -o x.tar\`,
pushed as it is), reads it back the way Istio pulls it, and prints the pinned reference,
oci://<registry/repo:tag>@sha256:<manifest digest>.

Options:
  --insecure              plain HTTP instead of HTTPS (loopback and lab registries)
  --username <name>       registry user (with --password); otherwise
  --password <secret>     PWAS_REGISTRY_USERNAME / PWAS_REGISTRY_PASSWORD when PWAS_REGISTRY
                          names this registry (host[:port]), otherwise the "auths" entry for
                          it in $DOCKER_CONFIG/config.json or ~/.docker/config.json
  --trust-realm <origin>  also send the credentials to this token realm (https://auth.example)
                          when it is not on the registry's site; repeatable
  -h, --help              this help

Credentials go to the registry's own origin and to a token realm on its site (auth.docker.io
for registry-1.docker.io), never to a plain-HTTP realm of an HTTPS registry, an upload
Location or a redirect elsewhere. docs/deploy.md, "Where credentials go", has the rule.
`;

/**
 * \`push\`: 0 when pushed and verified (the pinned URL on stdout, progress on stderr), 1 when the
 * module is refused, the registry refuses a step or the read-back fails, 2 on a usage error.
 */
export async function pushCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      insecure: { type: "boolean", default: false },
      username: { type: "string" },
      password: { type: "string" },
      "trust-realm": { type: "string", multiple: true, default: [] },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(PUSH_USAGE);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError(`push takes a .wasm file (or layout directory) and a reference, got ${positionals.length} argument(s)`);
  const reference = parseImageReference(positionals[1]);
  if (reference === undefined) throw new UsageError(`not an image reference: "${positionals[1]}" (expected registry/repo:tag)`);
  if (reference.tag === undefined || reference.digest !== undefined) throw new UsageError(`give a tag and no digest: registry/repo:tag (got "${positionals[1]}")`);
  if ((values.username === undefined) !== (values.password === undefined)) throw new UsageError("give both --username and --password");
  const trustedRealmOrigins = values["trust-realm"].map(realmOrigin);

  const source = resolve(io.cwd, positionals[0]);
  let image: PushableImage;
  if (existsSync(source) && statSync(source).isDirectory()) {
    try {
      image = readImageLayout(source);
    } catch (error) {
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} ${(error as Error).message}\n`);
      return 1;
    }
  } else if (existsSync(source) && isTarArchive(readFileSync(source))) {
    // An image archive from `package -o x.tar`: its manifest (and so its digest) is pushed unchanged.
    try {
      image = readImageLayoutTar(readFileSync(source), relative(io.cwd, source) || source);
    } catch (error) {
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} ${(error as Error).message}\n`);
      return 1;
    }
  } else {
    const wasm = readCheckedWasm(io, source);
    if (wasm === null) return 1;
    const tag = { name: `${reference.registry}/${reference.repository}`, tag: reference.tag };
    const schema = readBesideSchema(io, source, wasm);
    if (schema === null) return 1;
    image = buildCompatImage(wasm, { annotations: defaultAnnotations(source, tag), configSchema: schema?.bytes });
    if (schema !== undefined) io.stderr.write(`the image carries ${relative(io.cwd, schema.path) || schema.path} as plugin.schema.json, in a layer before the module's\n`);
  }

  let lookup;
  try {
    lookup = findCredentials(reference.registry, io.env, { username: values.username, password: values.password });
  } catch (error) {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} ${(error as Error).message}\n`);
    return 1;
  }
  if (lookup.envNote !== undefined) io.stderr.write(`note: ${lookup.envNote}\n`);
  io.stderr.write(`pushing ${relative(io.cwd, source) || source} to ${formatReference(reference)}${lookup.credentials ? ` as ${lookup.credentials.username} (${lookup.source})` : ""}\n`);
  try {
    const result = await pushImage(image, {
      reference,
      insecure: values.insecure,
      credentials: lookup.credentials,
      trustedRealmOrigins,
      log: (line) => io.stderr.write(`  ${line}\n`),
    });
    io.stdout.write(`${result.pinnedUrl}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    if (!values.insecure && isPlainHttpAnswer(error)) {
      io.stderr.write(
        `${styleFor(io.stderr, io.env).fail("✗ push failed:")} ${reference.registry} answered in plain HTTP, not HTTPS.\n` +
          `  If it is a plain-HTTP registry (a local or lab one), push with --insecure:\n` +
          `    proxy-wasm-as push ${positionals[0]} ${positionals[1]} --insecure\n`,
      );
      return 1;
    }
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("✗ push failed:")} ${error.message}\n`);
    if (lookup.helperNote && (error.message.includes("HTTP 401") || error.message.includes("requires a user name"))) io.stderr.write(`  note: ${lookup.helperNote}\n`);
    if (error instanceof RegistryError && error.status === 415) io.stderr.write("  note: the image uses standard OCI media types; check the registry allows OCI images\n");
    return 1;
  }
}

/** `--trust-realm`: an http(s) origin, given with or without a path (the path is ignored). */
function realmOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--trust-realm: not a URL: "${text}" (expected an origin such as https://auth.example.com)`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`--trust-realm: not an http(s) URL: "${text}"`);
  return url.origin;
}

/**
 * True when a TLS handshake failed because the server spoke plain HTTP: OpenSSL reads the start of
 * an HTTP response as a TLS record and reports a wrong version number (or an absurd length).
 */
function isPlainHttpAnswer(error: Error): boolean {
  for (let cause: unknown = error; cause instanceof Error || (typeof cause === "object" && cause !== null); cause = (cause as { cause?: unknown }).cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG" || code === "ERR_SSL_HTTP_REQUEST") return true;
    if ((cause as { cause?: unknown }).cause === cause) break;
  }
  return false;
}
