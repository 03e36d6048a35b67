import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { parseFlags } from "../parse-flags";
import {
  buildEnvoyBootstrap,
  buildEnvoyExtensionPolicy,
  buildIstioTrafficExtension,
  buildIstioWasmPlugin,
  DeployConfigError,
  ENVOY_GATEWAY_TARGET_KINDS,
  ISTIO_PHASES,
  ISTIO_TARGET_KINDS,
  parseFailurePolicyName,
  parseTargetRefs,
  toYaml,
  type CalloutCluster,
  type HostPort,
  type IstioPhase,
  type IstioPluginOptions,
  type IstioTrafficMode,
  type PluginConfiguration,
} from "../../deploy";
import { UsageError, type CliIo } from "../cli-io";
import { styleFor } from "../terminal-style";
import { checkModuleConfiguration, ModuleForCheckError, readModuleForCheck, shownPath } from "../configuration-check";

export const DEPLOY_USAGE = `Usage: proxy-wasm-as deploy --target <target> [options]

Prints (or writes with -o) the configuration that deploys the filter. Images are pinned by
digest and the failure policy is always explicit.

Targets:
  envoy                    static Envoy bootstrap: listener, HCM, envoy.filters.http.wasm, router,
                           clusters for the upstream and each callout
  istio-wasmplugin         Istio WasmPlugin (extensions.istio.io/v1alpha1)
  istio-trafficextension   Istio TrafficExtension (Istio 1.30+)
  envoy-gateway            Envoy Gateway EnvoyExtensionPolicy

Common options:
  --name <name>              plugin / resource name (default: package.json name, else "filter")
  --root-id <id>             root context id (Envoy root_id, Istio pluginName, EG rootID)
  --config <json>            plugin configuration (JSON text)
  --config-file <file>       plugin configuration read from a file
  --failure-policy <policy>  FAIL_CLOSED (default) | FAIL_OPEN | FAIL_RELOAD
  --no-config-check          do not check the configuration against the module's schema
  -o, --out <file>           write to a file instead of stdout

The configuration is checked against the JSON Schema the module declares (its custom section
proxy-wasm-as.config-schema, or <module>.schema.json beside it) before anything is written; a
mismatch is refused (exit 1) with the field, what was expected and the (line:column).

envoy:
  --wasm <file>              module path as Envoy sees it (code.local.filename)
  --url <http(s) url>        fetch the module remotely instead (needs --sha256, or --wasm to hash)
  --sha256 <hex>             the module's sha256 for --url
  --vm-id <id>               vm_id (default: the name)
  --runtime <name>           e.g. envoy.wasm.runtime.v8 (default: unset, Envoy picks its engine)
  --listen <host:port|port>  listener (default 0.0.0.0:10000)
  --admin <host:port|port>   admin (default 127.0.0.1:9901)
  --upstream <host:port>     cluster "backend" for route / (default 127.0.0.1:8080)
  --cluster <name=url>       callout cluster, repeatable: http://host:port, https://host[:port]
                             (TLS with SNI), grpc://host:port (HTTP/2)

istio-wasmplugin, istio-trafficextension, envoy-gateway:
  --image <oci://ref@sha256:…>  the image (as \`push\` prints it)
  --wasm <file|layout>       the module, for the configuration check: the .wasm, or the OCI
                             layout (directory or .tar) \`package\` wrote, whose digest must be
                             the image's; deploy does not pull --image
  --sha256 <hex>             the manifest digest, when --image has none
  --allow-unpinned           accept an image without a digest
  --namespace <ns>           metadata.namespace
  --target-ref <Kind/name>   attach to a Gateway, route, Service…, repeatable (envoy-gateway: required)
  --pull-policy <policy>     IfNotPresent (default) | Always
  --pull-secret <name>       image pull secret
Istio only:
  --selector <key=value>     workload label, repeatable (exclusive with --target-ref)
  --phase <phase>            AUTHN | AUTHZ | STATS | UNSPECIFIED_PHASE
  --priority <n>             order within the phase (higher first)
  --match-mode <mode>        CLIENT | SERVER | CLIENT_AND_SERVER
  --match-port <n>           repeatable
  --waypoint                 the plugin runs on an ambient waypoint (requires --target-ref)
  -h, --help                 this help
`;

const TARGETS = ["envoy", "istio-wasmplugin", "istio-trafficextension", "envoy-gateway"] as const;
type Target = (typeof TARGETS)[number];

/** `deploy`: 0 when the config was printed or written, 1 when the target would reject it, 2 on a usage error. */
export async function deployCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      target: { type: "string" },
      name: { type: "string" },
      "root-id": { type: "string" },
      config: { type: "string" },
      "config-file": { type: "string" },
      "failure-policy": { type: "string" },
      out: { type: "string", short: "o" },
      wasm: { type: "string" },
      url: { type: "string" },
      sha256: { type: "string" },
      "vm-id": { type: "string" },
      runtime: { type: "string" },
      listen: { type: "string" },
      admin: { type: "string" },
      upstream: { type: "string" },
      cluster: { type: "string", multiple: true },
      image: { type: "string" },
      "allow-unpinned": { type: "boolean", default: false },
      namespace: { type: "string" },
      "target-ref": { type: "string", multiple: true },
      "pull-policy": { type: "string" },
      "pull-secret": { type: "string" },
      selector: { type: "string", multiple: true },
      phase: { type: "string" },
      priority: { type: "string" },
      "match-mode": { type: "string" },
      "match-port": { type: "string", multiple: true },
      waypoint: { type: "boolean", default: false },
      "no-config-check": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(DEPLOY_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`deploy takes no positional arguments, got "${positionals[0]}"`);
  const target = values.target as Target | undefined;
  if (target === undefined) throw new UsageError(`--target is required (${TARGETS.join(", ")})`);
  if (!TARGETS.includes(target)) throw new UsageError(`--target: unknown target "${target}" (${TARGETS.join(", ")})`);
  const failurePolicy = parseFailurePolicyName(values["failure-policy"] ?? "FAIL_CLOSED");
  if (failurePolicy === undefined) throw new UsageError(`--failure-policy: expected FAIL_CLOSED, FAIL_OPEN or FAIL_RELOAD, got "${values["failure-policy"]}"`);
  if (values.config !== undefined && values["config-file"] !== undefined) throw new UsageError("give --config or --config-file, not both");
  let configuration: PluginConfiguration | undefined;
  if (values.config !== undefined) configuration = { text: values.config };
  if (values["config-file"] !== undefined) {
    const path = resolve(io.cwd, values["config-file"]);
    if (!existsSync(path)) {
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} config file ${values["config-file"]} not found\n`);
      return 1;
    }
    configuration = { text: readFileSync(path, "utf8") };
  }
  const name = values.name ?? packageName(io.cwd);
  const rootId = values["root-id"];

  let document: unknown;
  let hint: string;
  try {
    if (target === "envoy") {
      if (values.image !== undefined) throw new UsageError("--image is for Kubernetes targets; Envoy loads --wasm (a file) or --url (http)");
      document = buildEnvoyBootstrap({
        name,
        rootId,
        vmId: values["vm-id"],
        runtime: values.runtime,
        code: envoyCode(io, values.wasm, values.url, values.sha256),
        configuration,
        failurePolicy,
        listen: values.listen === undefined ? undefined : hostPort(values.listen, "--listen", "0.0.0.0"),
        admin: values.admin === undefined ? undefined : hostPort(values.admin, "--admin", "127.0.0.1"),
        upstream: values.upstream === undefined ? undefined : hostPort(values.upstream, "--upstream", "127.0.0.1"),
        clusters: (values.cluster ?? []).map(calloutCluster),
      });
      hint = `run: envoy -c ${values.out ?? "envoy.yaml"} --concurrency 1 --component-log-level wasm:debug`;
    } else {
      if (values.image === undefined) throw new UsageError(`--image is required for ${target} (the oci://…@sha256:… URL \`push\` printed)`);
      const pullPolicy = values["pull-policy"];
      if (pullPolicy !== undefined && pullPolicy !== "IfNotPresent" && pullPolicy !== "Always") throw new UsageError(`--pull-policy: IfNotPresent or Always, got "${pullPolicy}"`);
      if (target === "envoy-gateway") {
        for (const flag of ["selector", "phase", "priority", "match-mode", "match-port"] as const) {
          if (values[flag] !== undefined) throw new UsageError(`--${flag} is an Istio option; Envoy Gateway attaches with --target-ref`);
        }
        document = buildEnvoyExtensionPolicy({
          name,
          namespace: values.namespace,
          image: values.image,
          sha256: values.sha256,
          allowUnpinned: values["allow-unpinned"],
          pullPolicy,
          pullSecret: values["pull-secret"],
          rootId,
          configuration,
          failurePolicy,
          targetRefs: parseTargetRefs(values["target-ref"] ?? [], ENVOY_GATEWAY_TARGET_KINDS, "Envoy Gateway"),
        });
        hint = "status: kubectl get envoyextensionpolicy " + name + " -o yaml (conditions); logs: raise the proxy's wasm log level (see docs/deploy.md)";
      } else {
        const options = istioOptions(values, name, rootId, configuration, failurePolicy, pullPolicy);
        document = target === "istio-wasmplugin" ? buildIstioWasmPlugin(options) : buildIstioTrafficExtension(options);
        hint = "logs: istioctl proxy-config log <pod> --level wasm:debug (Istio's default level hides info)";
      }
    }
  } catch (error) {
    if (!(error instanceof DeployConfigError)) throw error;
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("✗")} ${error.message}\n`);
    return 1;
  }

  // After the target's own rules (usage, pinning, JSON for a Struct), before anything is written.
  if (configuration !== undefined && !values["no-config-check"]) {
    const refusal = configurationRefusal(io, target, configuration, values.wasm, values.image, values.sha256);
    if (refusal !== null) {
      io.stderr.write(refusal.map((line, i) => (i === 0 ? `${styleFor(io.stderr, io.env).fail("✗")} ${line}\n` : `${line}\n`)).join(""));
      return 1;
    }
  }

  const yaml = toYaml(document);
  if (values.out === undefined) {
    io.stdout.write(yaml);
    io.stderr.write(`${hint}\n`);
    return 0;
  }
  const out = resolve(io.cwd, values.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, yaml);
  io.stdout.write(`${styleFor(io.stdout, io.env).ok("✓")} wrote ${relative(io.cwd, out) || out} (${target})\n  ${hint}\n`);
  return 0;
}

/**
 * Checks the configuration against the schema of the module the deploy names (envoy: --wasm when
 * that file is here; the Kubernetes targets: --wasm, a .wasm or the image's OCI layout, whose
 * manifest digest must be the pinned one). Returns the lines of a refusal, or null to go on; a
 * module that cannot be found here is noted on stderr and the configuration only checked as the
 * target requires (JSON for the Kubernetes targets).
 */
function configurationRefusal(io: CliIo, target: Target, configuration: PluginConfiguration, wasm: string | undefined, image: string | undefined, sha256: string | undefined): string[] | null {
  if (wasm === undefined) {
    const why = target === "envoy" ? "no --wasm file to read it from" : `deploy does not pull ${image ?? "the image"}; give --wasm <the .wasm or the layout \`package\` wrote>`;
    io.stderr.write(`note: the configuration is not checked against the module's schema: ${why}\n`);
    return null;
  }
  const path = resolve(io.cwd, wasm);
  // Envoy's --wasm is the path as Envoy sees it, which need not exist where deploy runs.
  if (target === "envoy" && !existsSync(path)) {
    io.stderr.write(`note: the configuration is not checked against the module's schema: --wasm ${wasm} is not here (it is the path Envoy reads)\n`);
    return null;
  }
  let module;
  try {
    module = readModuleForCheck(path, wasm);
  } catch (error) {
    if (!(error instanceof ModuleForCheckError)) throw error;
    return [`--wasm ${error.message}`];
  }
  const pinnedText = sha256 ?? /@(sha256:[0-9a-f]{64})$/.exec(image ?? "")?.[1];
  const pinned = pinnedText === undefined || pinnedText.startsWith("sha256:") ? pinnedText : `sha256:${pinnedText}`;
  if (module.manifestDigest !== undefined && pinned !== undefined && module.manifestDigest !== pinned) {
    return [`--wasm ${wasm} is image ${module.manifestDigest}, but the deploy pins ${pinned}: give the layout of the pushed image`];
  }
  const verdict = checkModuleConfiguration(configuration.text, module, shownPath(io.cwd, path), "plugin configuration", io.cwd);
  return verdict.ok ? null : verdict.lines;
}

function envoyCode(io: CliIo, wasm: string | undefined, url: string | undefined, sha256: string | undefined): { filename: string } | { url: string; sha256: string } {
  if (url === undefined) {
    if (wasm === undefined) throw new UsageError("--wasm <file> (or --url with --sha256) is required for --target envoy");
    if (sha256 !== undefined) throw new UsageError("--sha256 goes with --url; a local --wasm file needs none");
    return { filename: wasm };
  }
  if (sha256 !== undefined) return { url, sha256 };
  if (wasm === undefined) throw new UsageError("--url needs --sha256 (or --wasm to compute it from the file)");
  const path = resolve(io.cwd, wasm);
  if (!existsSync(path)) throw new DeployConfigError(`--wasm ${wasm} not found (needed to compute the sha256 for --url)`);
  return { url, sha256: createHash("sha256").update(readFileSync(path)).digest("hex") };
}

function istioOptions(
  values: Record<string, string | boolean | string[] | undefined>,
  name: string,
  rootId: string | undefined,
  configuration: PluginConfiguration | undefined,
  failurePolicy: IstioPluginOptions["failurePolicy"],
  pullPolicy: "IfNotPresent" | "Always" | undefined,
): IstioPluginOptions {
  const phase = values.phase as string | undefined;
  if (phase !== undefined && !ISTIO_PHASES.includes(phase as IstioPhase)) throw new UsageError(`--phase: ${ISTIO_PHASES.join(", ")}, got "${phase}"`);
  const priorityText = values.priority as string | undefined;
  const priority = priorityText === undefined ? undefined : Number(priorityText);
  if (priority !== undefined && (!Number.isInteger(priority) || priority < -2147483648 || priority > 2147483647)) throw new UsageError(`--priority: an int32, got "${priorityText}"`);
  const mode = values["match-mode"] as string | undefined;
  if (mode !== undefined && !["CLIENT", "SERVER", "CLIENT_AND_SERVER"].includes(mode)) throw new UsageError(`--match-mode: CLIENT, SERVER or CLIENT_AND_SERVER, got "${mode}"`);
  const ports = ((values["match-port"] as string[] | undefined) ?? []).map((text) => {
    const number = Number(text);
    if (!/^\d+$/.test(text)) throw new UsageError(`--match-port: a port number, got "${text}"`);
    return { number };
  });
  const selector: Record<string, string> = {};
  for (const item of (values.selector as string[] | undefined) ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--selector: expected key=value, got "${item}"`);
    selector[item.slice(0, eq)] = item.slice(eq + 1);
  }
  const match = mode !== undefined || ports.length > 0 ? [{ ...(mode ? { mode: mode as IstioTrafficMode } : {}), ...(ports.length ? { ports } : {}) }] : undefined;
  return {
    name,
    namespace: values.namespace as string | undefined,
    image: values.image as string,
    sha256: values.sha256 as string | undefined,
    allowUnpinned: values["allow-unpinned"] as boolean,
    imagePullPolicy: pullPolicy,
    imagePullSecret: values["pull-secret"] as string | undefined,
    pluginName: rootId,
    configuration,
    failurePolicy,
    phase: phase as IstioPhase | undefined,
    priority,
    selector,
    targetRefs: parseTargetRefs((values["target-ref"] as string[] | undefined) ?? [], ISTIO_TARGET_KINDS, "Istio"),
    match,
    waypoint: values.waypoint as boolean,
  };
}

function hostPort(text: string, flag: string, defaultHost: string): HostPort {
  const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) > 65535) throw new UsageError(`${flag}: expected host:port or a port, got "${text}"`);
  return { host: match[1] ? match[1].replace(/^\[|\]$/g, "") : defaultHost, port: Number(match[2]) };
}

function calloutCluster(item: string): CalloutCluster {
  const eq = item.indexOf("=");
  if (eq <= 0) throw new UsageError(`--cluster: expected name=url, got "${item}"`);
  const name = item.slice(0, eq);
  let url: URL;
  try {
    url = new URL(item.slice(eq + 1));
  } catch {
    throw new UsageError(`--cluster ${name}: not a URL: "${item.slice(eq + 1)}" (http://host:port, https://host, grpc://host:port)`);
  }
  const defaults: Record<string, number> = { "http:": 80, "https:": 443, "grpc:": 0 };
  if (!(url.protocol in defaults)) throw new UsageError(`--cluster ${name}: scheme ${url.protocol}// not supported (http, https, grpc)`);
  if (url.pathname !== "/" && url.pathname !== "") throw new UsageError(`--cluster ${name}: give scheme, host and port only (a cluster has no path)`);
  const port = Number(url.port || defaults[url.protocol]);
  if (port === 0) throw new UsageError(`--cluster ${name}: grpc:// needs a port`);
  return { name, host: url.hostname.replace(/^\[|\]$/g, ""), port, ...(url.protocol === "https:" ? { tls: true } : {}), ...(url.protocol === "grpc:" ? { http2: true } : {}) };
}

function packageName(cwd: string): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(cwd, "package.json"), "utf8")) as { name?: string };
    if (pkg.name) return pkg.name.replace(/^@[^/]+\//, "");
  } catch {
    // no package.json: generic name
  }
  return "filter";
}
