import { existsSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { parseFlags } from "../parse-flags";
import {
  buildCompatImage,
  findCredentials,
  formatReference,
  parseImageReference,
  pushImage,
  readImageLayout,
  RegistryError,
  type PushableImage,
} from "../../oci";
import { UsageError, type CliIo } from "../cli-io";
import { defaultAnnotations, readCheckedWasm } from "./package";

export const PUSH_USAGE = `Usage: proxy-wasm-as push <file.wasm|layout dir> <registry/repo:tag> [options]

Pushes a filter as a compat OCI image (a .wasm is packaged first, as \`package\` does; a
directory must be an OCI image layout written by \`package\`), reads it back the way Istio pulls
it, and prints the pinned reference, oci://<registry/repo:tag>@sha256:<manifest digest>.

Options:
  --insecure              plain HTTP instead of HTTPS (loopback and lab registries)
  --username <name>       registry user (with --password); otherwise
  --password <secret>     PWAS_REGISTRY_USERNAME / PWAS_REGISTRY_PASSWORD, otherwise the
                          "auths" of $DOCKER_CONFIG/config.json or ~/.docker/config.json
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
      io.stderr.write(`error: ${(error as Error).message}\n`);
      return 1;
    }
  } else {
    const wasm = readCheckedWasm(io, source);
    if (wasm === null) return 1;
    const tag = { name: `${reference.registry}/${reference.repository}`, tag: reference.tag };
    image = buildCompatImage(wasm, { annotations: defaultAnnotations(source, tag) });
  }

  let lookup;
  try {
    lookup = findCredentials(reference.registry, io.env, { username: values.username, password: values.password });
  } catch (error) {
    io.stderr.write(`error: ${(error as Error).message}\n`);
    return 1;
  }
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
    io.stderr.write(`✗ push failed: ${error.message}\n`);
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
