import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseFlags } from "../parse-flags";
import {
  allHttpFilters,
  allRoutes,
  httpListenerViews,
  ConfigError,
  DEFAULT_CLUSTER,
  defaultConfig,
  parseFailurePolicy,
  type DevProxyConfig,
  type WasmFilterConfig,
} from "../../proxy/config/dev-proxy-config";
import { accessLogFromFlag } from "../../proxy/config/access-log-config";
import { clusterFromUrl, loadConfigFile, parseHostPort } from "../../proxy/config/load-config-file";
import { startDevProxy } from "../../proxy/dev-proxy";
import { MAX_BUFFER_LIMIT_BYTES } from "../../host/drivers/buffer-limit";
import { closeInspector, openInspector } from "../inspector-session";
import { buildWasmFilters } from "../../proxy/filters/wasm-filters";
import { parseLogLevel, ProxyLogger } from "../../proxy/proxy-logger";
import { UsageError, type CliIo } from "../cli-io";
import { watchUntilStopped } from "../watch-sources";
import { buildFilter, buildWatchRoots, defaultOutFile } from "./build";
import { busyPortMessage, claimOfListenError, firstBusyPort, type PortClaim } from "../port-check";
import { colourEnabled, styleFor } from "../terminal-style";
import { checkModuleConfiguration, ModuleForCheckError, readModuleForCheck, shownPath } from "../configuration-check";

export const RUN_USAGE = `Usage: proxy-wasm-as run [options]

Starts the dev proxy: HTTP/1.1 and h2c on one port, the filters in front of an upstream (the
built-in echo upstream when none is given), and an admin endpoint (/ready, /stats,
/stats/prometheus, /clusters, /config_dump, /logging). An Envoy bootstrap may add TCP listeners
(network Wasm filters before tcp_proxy) and TLS on listeners and clusters.

Options:
  -c, --config <file>          YAML/JSON config: the dev proxy format or an Envoy v3 bootstrap
  -w, --wasm <file>            add a filter (repeatable; options below apply to the last one)
      --name <name>            plugin name (PluginConfig.name)
      --root-id <id>           root_id
      --vm-id <id>             vm_id (filters with the same vm_id share data and queues)
      --plugin-config <text>   plugin configuration (@file reads a file)
      --vm-config <text>       VM configuration (@file reads a file)
      --failure-policy <p>     FAIL_CLOSED (default), FAIL_OPEN or FAIL_RELOAD
      --source-map <file>      the filter's source map (default: <wasm>.map when present), so
                               failure reports name AssemblyScript file:line:column
  -u, --upstream <url>         default route target, e.g. http://127.0.0.1:8080
      --cluster <name=url>     a named cluster for callouts (repeatable); name=h2c+http://... for gRPC
  -l, --listen <host:port>     listener (default 127.0.0.1:10000)
      --admin <host:port|off>  admin endpoint (default 127.0.0.1:9901)
      --route-timeout <ms>     route timeout (default 15000, 0 = none)
      --log-level <level>      trace, debug, info (default), warning, error, critical, off
      --concurrency <n>        1 (default): filters on the listener's thread; n > 1: n worker
                               threads, one VM per filter per worker
      --watch                  hot reload: new streams use a changed .wasm, in-flight ones finish;
                               in a filter project (asconfig.json, assembly/index.ts), a --wasm
                               that is the project's build output is also rebuilt on every
                               change of its sources
      --callback-time-limit <ms>  longest a filter callback may run (default 5000, 0 = none)
      --buffer-limit-bytes <n>  body bytes a filter may buffer per stream and direction before
                               the stream fails as in Envoy: 413 (request), 500 or reset
                               (response); Envoy's per_connection_buffer_limit_bytes
                               (default 1048576, 0 = none)
      --access-log <path|->    an access log in Envoy's default format (- = stdout)
      --inspect                open Node's inspector (Chrome DevTools, VS Code) on 127.0.0.1:9229:
                               filters show their AssemblyScript sources and stop at
                               breakpoints; no callback time limit, one thread
      --inspect-port <[host:]port>  where the inspector listens (implies --inspect)
      --no-config-check        start even if a plugin configuration does not match the schema
                               its module declares (checked before anything listens)
  -h, --help                   this help
`;

/**
 * \`run\`: starts the dev proxy and serves until \`io.stopSignal\` resolves. Returns 0 after a
 * clean stop, 1 when the config or a filter is rejected (printed), 2 on a usage error.
 */
export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, tokens } = parseFlags({
    args,
    tokens: true,
    options: {
      config: { type: "string", short: "c" },
      wasm: { type: "string", short: "w", multiple: true },
      name: { type: "string", multiple: true },
      "root-id": { type: "string", multiple: true },
      "vm-id": { type: "string", multiple: true },
      "plugin-config": { type: "string", multiple: true },
      "vm-config": { type: "string", multiple: true },
      "failure-policy": { type: "string", multiple: true },
      "source-map": { type: "string", multiple: true },
      upstream: { type: "string", short: "u" },
      cluster: { type: "string", multiple: true },
      listen: { type: "string", short: "l" },
      admin: { type: "string" },
      "route-timeout": { type: "string" },
      "log-level": { type: "string" },
      concurrency: { type: "string" },
      watch: { type: "boolean" },
      "callback-time-limit": { type: "string" },
      "buffer-limit-bytes": { type: "string" },
      "access-log": { type: "string" },
      inspect: { type: "boolean" },
      "inspect-port": { type: "string" },
      "no-config-check": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(RUN_USAGE);
    return 0;
  }

  let config: DevProxyConfig;
  let warnings: string[] = [];
  let inspect: { host: string; port: number } | null = null;
  try {
    if (values.config !== undefined) ({ config, warnings } = loadConfigFile(resolve(io.cwd, values.config), io.cwd));
    else config = defaultConfig();
    applyFlags(config, values, tokens ?? [], io.cwd);
    if (values.inspect === true || values["inspect-port"] !== undefined) inspect = inspectAddress(values["inspect-port"]);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} ${error.message}\n`);
      return 1;
    }
    throw error;
  }

  if (inspect !== null) {
    // A pause at a breakpoint must not be taken for a looping filter, and one thread keeps every
    // VM in the process the debugger is attached to.
    config.callbackTimeLimitMs = 0;
    if (config.concurrency > 1) io.stderr.write(`--inspect: filters run on the listener's thread (--concurrency ${config.concurrency} ignored)\n`);
    config.concurrency = 1;
  }

  // In a project, `run --watch` keeps the project's own module built from its sources.
  const rebuilds = config.hotReload && values.watch === true ? projectBuildsServed(io.cwd, config) : [];
  const rebuild = async (): Promise<boolean> => {
    let ok = true;
    for (const debug of rebuilds) ok = (await buildFilter(io, { debug, incremental: true })) !== null && ok;
    return ok;
  };
  if (rebuilds.length > 0) await rebuild();

  const logger = new ProxyLogger({ level: config.logLevel, output: io.stderr, colour: colourEnabled(io.stderr, io.env) });
  for (const warning of warnings) logger.log("config", "warning", `unsupported: ${warning}`);
  for (const filter of [...allHttpFilters(config), ...(config.services ?? []), ...config.tcpListeners.flatMap((listener) => listener.filters)]) {
    if (!existsSync(filter.wasmPath)) {
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} ${filter.wasmPath} not found (build it with \`proxy-wasm-as build\`)\n`);
      return 1;
    }
    if (filter.sourceMapPath !== undefined && !existsSync(filter.sourceMapPath)) {
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} source map ${filter.sourceMapPath} not found\n`);
      return 1;
    }
  }

  if (values["no-config-check"] !== true) {
    const refusal = configurationRefusals(config, io.cwd);
    if (refusal.length > 0) {
      io.stderr.write(refusal.map((line, i) => (i === 0 ? `${styleFor(io.stderr, io.env).fail("error:")} ${line}\n` : `${line}\n`)).join(""));
      return 1;
    }
  }

  // Checked before the filters load, so a taken port is named at once, as the listener's or the admin's.
  const claims: PortClaim[] = httpListenerViews(config).map(({ listener }) => ({ role: "listener", host: listener.host, port: listener.port }));
  if (config.admin !== null) claims.push({ role: "admin", ...config.admin });
  const busy = await firstBusyPort(claims);
  if (busy !== null) {
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} ${busyPortMessage(busy, busy.code)}\n`);
    return 1;
  }

  let debuggerUrl: string | undefined;
  if (inspect !== null) {
    try {
      debuggerUrl = openInspector(inspect.host, inspect.port);
    } catch (error) {
      io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} --inspect: the inspector did not open on ${inspect.host}:${inspect.port}: ${(error as Error).message}\n`);
      return 1;
    }
  }
  let proxy;
  try {
    proxy = await startDevProxy(config, { logger, buildFilters: buildWasmFilters, accessLogStreams: { stdout: io.stdout, stderr: io.stderr } });
  } catch (error) {
    const taken = claimOfListenError(error, claims);
    io.stderr.write(`${styleFor(io.stderr, io.env).fail("error:")} the dev proxy did not start: ${taken === null ? (error as Error).message : busyPortMessage(taken, taken.code)}\n`);
    if (debuggerUrl !== undefined) closeInspector();
    return 1;
  }
  // The watchers are in place when watchUntilStopped returns its promise (it sets them up before
  // its first await), so a change made once onReady fired is seen.
  const stopped = rebuilds.length > 0 ? watchUntilStopped({ ...io, onReady: undefined }, buildWatchRoots(io.cwd, {}), async () => void (await rebuild())) : io.stopSignal;
  io.stdout.write(`dev proxy listening on ${proxy.url}${proxy.adminUrl ? ` (admin ${proxy.adminUrl})` : ""}\n`);
  for (const listener of proxy.httpListeners.slice(1)) io.stdout.write(`HTTP listener ${listener.name || "(unnamed)"} on ${listener.url}\n`);
  for (const listener of proxy.tcpListeners) {
    io.stdout.write(`TCP listener ${listener.name || "(unnamed)"} on ${listener.tls ? "tls" : "tcp"}://${listener.host.includes(":") ? `[${listener.host}]` : listener.host}:${listener.port}\n`);
  }
  if (/^https?:/.test(proxy.url)) io.stdout.write(`try: curl -i ${proxy.url.startsWith("https:") ? "-k " : ""}${proxy.url}/\n`);
  if (debuggerUrl !== undefined) {
    io.stdout.write(`debugger listening on ${debuggerUrl}: open chrome://inspect (or attach VS Code), set breakpoints in assembly/*.ts, send a request (docs/debugging.md)\n`);
  }
  io.onReady?.({ url: proxy.url, adminUrl: proxy.adminUrl, echoUrl: proxy.echoUrl, httpListeners: proxy.httpListeners, tcpListeners: proxy.tcpListeners, ...(debuggerUrl === undefined ? {} : { debuggerUrl }) });
  await stopped;
  await proxy.close();
  if (debuggerUrl !== undefined) closeInspector();
  return 0;
}

/**
 * Each filter's (HTTP or network) plugin configuration against the schema its module declares,
 * before anything listens (a filter whose configuration its module would refuse fails its VM at
 * start in Envoy).
 * Returns the lines of the refusal, empty when every configuration matches. Empty configurations
 * and modules without a schema are not checked: the proxy passes any bytes, as Envoy does.
 */
function configurationRefusals(config: DevProxyConfig, cwd: string): string[] {
  const lines: string[] = [];
  // HTTP filters, then each TCP listener's network filters, then the wasm services (their
  // configuration is read the same way, and Envoy fails a service's VM on it alike).
  [...allHttpFilters(config), ...config.tcpListeners.flatMap((listener) => listener.filters), ...(config.services ?? [])].forEach((filter, index) => {
    if (filter.pluginConfiguration.length === 0) return;
    const shown = shownPath(cwd, filter.wasmPath);
    let module;
    try {
      module = readModuleForCheck(filter.wasmPath, shown);
    } catch (error) {
      if (!(error instanceof ModuleForCheckError)) throw error;
      lines.push(error.message);
      return;
    }
    const origin = filter.pluginConfigurationOrigin ?? { where: `filter ${index} (${filter.name || shown}) configuration`, asWritten: false };
    const verdict = checkModuleConfiguration(filter.pluginConfiguration, module, shown, origin.where, cwd, origin.asWritten);
    if (!verdict.ok) lines.push(...verdict.lines);
  });
  return lines;
}

/**
 * Which of the project's builds (false: release, true: debug) the configured filters serve: those
 * whose --wasm is the module `build` writes by default. Empty outside a project (no asconfig.json
 * or no assembly/index.ts in the working folder).
 */
function projectBuildsServed(cwd: string, config: DevProxyConfig): boolean[] {
  if (!existsSync(join(cwd, "asconfig.json")) || !existsSync(join(cwd, "assembly", "index.ts"))) return [];
  const served = new Set([...allHttpFilters(config), ...config.tcpListeners.flatMap((listener) => listener.filters)].map((filter) => filter.wasmPath));
  return [false, true].filter((debug) => served.has(resolve(cwd, defaultOutFile(cwd, debug))));
}

type RunFlags = Record<string, string | boolean | string[] | undefined>;
type Token = { kind: string; name?: string; index: number };

/**
 * Applies flags over the file's config. Filter options (`--name`, `--plugin-config`, ...) apply
 * to the `--wasm` that precedes them, so `-w a.wasm --name a -w b.wasm --name b` configures two.
 */
function applyFlags(config: DevProxyConfig, values: RunFlags, tokens: Token[], cwd: string): void {
  const wasmFlags = collectFilterFlags(tokens, values);
  for (const flags of wasmFlags) config.filters.push(filterFromFlags(flags, cwd));

  const listen = values.listen as string | undefined;
  if (listen !== undefined) config.listener = parseHostPort(listen, "--listen");
  const admin = values.admin as string | undefined;
  if (admin !== undefined) config.admin = admin === "off" ? null : parseHostPort(admin, "--admin");
  const upstream = values.upstream as string | undefined;
  if (upstream !== undefined) {
    config.clusters = config.clusters.filter((cluster) => cluster.name !== DEFAULT_CLUSTER);
    config.clusters.push(clusterFromUrl(DEFAULT_CLUSTER, upstream, "--upstream"));
    config.echoUpstream = false;
  }
  for (const spec of (values.cluster as string[] | undefined) ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new UsageError(`--cluster expects name=url, got "${spec}"`);
    const name = spec.slice(0, eq);
    let url = spec.slice(eq + 1);
    const http2 = url.startsWith("h2c+");
    if (http2) url = url.slice(4);
    const cluster = clusterFromUrl(name, url, `--cluster ${name}`);
    cluster.http2 = http2;
    config.clusters = config.clusters.filter((existing) => existing.name !== name);
    config.clusters.push(cluster);
  }
  const routeTimeout = values["route-timeout"] as string | undefined;
  if (routeTimeout !== undefined) {
    const ms = nonNegativeInteger(routeTimeout, "--route-timeout");
    for (const route of allRoutes(config)) route.timeoutMs = ms;
  }
  const level = values["log-level"] as string | undefined;
  if (level !== undefined) {
    const parsed = parseLogLevel(level);
    if (parsed === undefined) throw new UsageError(`--log-level: unknown level "${level}"`);
    config.logLevel = parsed;
  }
  const concurrency = values.concurrency as string | undefined;
  if (concurrency !== undefined) {
    config.concurrency = nonNegativeInteger(concurrency, "--concurrency");
    if (config.concurrency < 1) throw new UsageError("--concurrency must be at least 1");
  }
  if (values.watch === true) config.hotReload = true;
  const limit = values["callback-time-limit"] as string | undefined;
  if (limit !== undefined) config.callbackTimeLimitMs = nonNegativeInteger(limit, "--callback-time-limit");
  const bufferLimit = values["buffer-limit-bytes"] as string | undefined;
  if (bufferLimit !== undefined) {
    const bytes = nonNegativeInteger(bufferLimit, "--buffer-limit-bytes");
    if (bytes > MAX_BUFFER_LIMIT_BYTES) throw new UsageError(`--buffer-limit-bytes: at most ${MAX_BUFFER_LIMIT_BYTES} (Envoy's UInt32Value), got ${bufferLimit}`);
    config.bufferLimitBytes = bytes;
  }
  const accessLog = values["access-log"];
  if (typeof accessLog === "string") config.accessLogs.push(accessLogFromFlag(accessLog === "-" ? accessLog : resolve(cwd, accessLog)));
}

const FILTER_OPTIONS = ["name", "root-id", "vm-id", "plugin-config", "vm-config", "failure-policy", "source-map"] as const;
type FilterFlags = { wasm: string } & Partial<Record<(typeof FILTER_OPTIONS)[number], string>>;

function collectFilterFlags(tokens: Token[], values: RunFlags): FilterFlags[] {
  const filters: FilterFlags[] = [];
  const seen: Record<string, number> = {};
  for (const token of tokens) {
    if (token.kind !== "option" || token.name === undefined) continue;
    const name = token.name;
    const occurrence = seen[name] ?? 0;
    seen[name] = occurrence + 1;
    const value = (values[name] as string[] | undefined)?.[occurrence];
    if (name === "wasm" && value !== undefined) filters.push({ wasm: value });
    else if ((FILTER_OPTIONS as readonly string[]).includes(name)) {
      const current = filters.at(-1);
      if (current === undefined) throw new UsageError(`--${name} must follow the --wasm it configures`);
      current[name as (typeof FILTER_OPTIONS)[number]] = value;
    }
  }
  return filters;
}

function filterFromFlags(flags: FilterFlags, cwd: string): WasmFilterConfig {
  const policyText = flags["failure-policy"];
  const failurePolicy = policyText === undefined ? "FAIL_CLOSED" : parseFailurePolicy(policyText);
  if (failurePolicy === undefined) throw new UsageError(`--failure-policy: unknown policy "${policyText}"`);
  return {
    name: flags.name ?? "",
    rootId: flags["root-id"] ?? "",
    vmId: flags["vm-id"] ?? "",
    wasmPath: resolve(cwd, flags.wasm),
    pluginConfiguration: textOrFile(flags["plugin-config"], cwd),
    pluginConfigurationOrigin: { where: `--plugin-config of --wasm ${flags.wasm}`, asWritten: true },
    vmConfiguration: textOrFile(flags["vm-config"], cwd),
    failurePolicy,
    allowOnHeadersStopIteration: false,
    ...(flags["source-map"] === undefined ? {} : { sourceMapPath: resolve(cwd, flags["source-map"]) }),
  };
}

function textOrFile(value: string | undefined, cwd: string): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  if (!value.startsWith("@")) return Buffer.from(value);
  try {
    return readFileSync(resolve(cwd, value.slice(1)));
  } catch (error) {
    throw new ConfigError(`cannot read ${value.slice(1)}: ${(error as Error).message}`);
  }
}

/** Where `--inspect` opens the inspector: Node's default 127.0.0.1:9229, or `--inspect-port` ([host:]port; 0: any free port). */
function inspectAddress(text: string | undefined): { host: string; port: number } {
  return text === undefined ? { host: "127.0.0.1", port: 9229 } : parseHostPort(text, "--inspect-port");
}

function nonNegativeInteger(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} expects a whole number, got "${text}"`);
  return Number(text);
}
