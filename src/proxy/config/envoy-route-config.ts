import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ConfigReader, parseDurationMs } from "./config-reader";
import {
  ConfigError,
  DEFAULT_ROUTE_TIMEOUT_MS,
  type HeaderMatcherConfig,
  type HeaderMutation,
  type RouteConfig,
  type RouteTableConfig,
  type TranslatedRegex,
  type VirtualHostConfig,
} from "./dev-proxy-config";
import { re2ToJavaScript } from "./re2-regex";

/**
 * Reads an HCM `route_config` (`config.route.v3.RouteConfiguration`): virtual hosts with their
 * domains, routes matched by `prefix`, `path`, `path_separated_prefix` or `safe_regex` plus
 * `headers` and `grpc`, and the actions `route` (`cluster`, `timeout`, `prefix_rewrite`,
 * `host_rewrite_literal`) and `direct_response`, and `request/response_headers_to_add/remove` at
 * every level. What changes requests or routing and cannot be honoured (redirects, other matchers
 * or rewrites, header values with format commands, per-filter configs) is refused with its path;
 * what only tunes behaviour (retries, hash policy, CORS) is warned about.
 * Envoy's semantics are in envoy source/common/router/config_impl.cc.
 *
 * @throws ConfigError naming the field.
 */
export function readRouteConfiguration(routeConfig: ConfigReader, cwd: string): RouteTableConfig {
  routeConfig.accept("validate_clusters", "max_direct_response_body_size_bytes");
  const ignorePort = routeConfig.boolean("ignore_port_in_host_matching") ?? false;
  const mostSpecificWins = routeConfig.boolean("most_specific_header_mutations_wins") ?? false;
  routeConfig.refuse("vhds", "VHDS is not supported; list the virtual hosts");
  routeConfig.refuse("internal_only_headers", "internal_only_headers is not supported by the dev proxy");
  routeConfig.refuse("typed_per_filter_config", "per-route filter configs are not supported by the dev proxy");
  const mutations = readHeaderMutations(routeConfig);
  const virtualHosts = routeConfig.children("virtual_hosts").map((host) => readVirtualHost(host, cwd, mostSpecificWins));
  for (const host of virtualHosts) for (const route of host.routes) addOuterMutations(route, mutations, mostSpecificWins);
  checkDomainsUnique(virtualHosts, routeConfig.at("virtual_hosts"));
  const name = routeConfig.string("name");
  routeConfig.finish();
  const table: RouteTableConfig = { virtualHosts };
  if (name !== undefined && name !== "") table.name = name;
  if (ignorePort) table.ignorePortInHostMatching = true;
  return table;
}

function readVirtualHost(host: ConfigReader, cwd: string, mostSpecificWins: boolean): VirtualHostConfig {
  const name = host.string("name") ?? "";
  const domains = host.list("domains").map((domain) => String(domain).toLowerCase());
  if (domains.length === 0) throw new ConfigError(`${host.at("domains")}: at least one domain is required`);
  const mutations = readHeaderMutations(host);
  host.refuse("typed_per_filter_config", "per-route filter configs are not supported by the dev proxy");
  host.refuse("require_tls", "TLS is not supported by the dev proxy");
  host.unsupported("retry_policy", "retries are not supported; every request is tried once");
  host.unsupported("virtual_clusters", "virtual cluster stats are not kept; ignored");
  host.unsupported("rate_limits");
  host.unsupported("cors", "CORS policies are not applied; ignored");
  const routes = host.children("routes").map((route) => readRoute(route, cwd));
  for (const route of routes) addOuterMutations(route, mutations, mostSpecificWins);
  host.finish();
  return { name, domains, routes };
}

/** Envoy refuses a domain listed twice (in one or two virtual hosts), `*` included. */
function checkDomainsUnique(hosts: VirtualHostConfig[], where: string): void {
  const seen = new Set<string>();
  for (const host of hosts) {
    for (const domain of host.domains) {
      if (seen.has(domain)) throw new ConfigError(`${where}: only unique values for domains are permitted; "${domain}" appears twice`);
      seen.add(domain);
    }
  }
}

function readRoute(route: ConfigReader, cwd: string): RouteConfig {
  route.accept("decorator");
  const name = route.string("name");
  const metadata = route.child("metadata");
  const mutations = readHeaderMutations(route);
  route.refuse("typed_per_filter_config", "per-route filter configs are not supported by the dev proxy");
  route.refuse("redirect", "redirect routes are not supported by the dev proxy");
  route.refuse("filter_action", "filter_action routes are not supported by the dev proxy");
  route.refuse("non_forwarding_action", "non_forwarding_action routes are not supported by the dev proxy");
  const match = route.child("match");
  if (!match) throw new ConfigError(`${route.path}.match: missing`);
  const config = readMatch(match);
  const action = route.child("route");
  const direct = route.child("direct_response");
  if (action && direct) throw new ConfigError(`${route.path}: give either route or direct_response, not both`);
  if (direct) {
    config.directResponse = readDirectResponse(direct, cwd);
  } else if (action) {
    readAction(action, config);
  } else {
    throw new ConfigError(`${route.path}: missing action (route or direct_response)`);
  }
  addOuterMutations(config, mutations, false);
  if (name !== undefined) config.name = name;
  if (metadata) {
    // Filters read it as the `xds.route_metadata` property (and the older `route_metadata`).
    metadata.accept(...Object.keys(metadata.value));
    config.metadata = metadata.value;
  }
  route.finish();
  return config;
}

/** One level's header mutations (route, virtual host or route table). */
interface LevelMutations {
  request: HeaderMutation[];
  response: HeaderMutation[];
}

/**
 * Adds an enclosing level's mutations to a route's: after the route's own (Envoy's default: the
 * enclosing level is applied last, so it wins), or before them with
 * `most_specific_header_mutations_wins` (envoy source/common/router/config_impl.cc,
 * `RouteEntryImplBase::finalizeRequestHeaders`).
 */
function addOuterMutations(route: RouteConfig, outer: LevelMutations, mostSpecificWins: boolean): void {
  const combine = (inner: HeaderMutation[] | undefined, more: HeaderMutation[]): HeaderMutation[] | undefined => {
    const all = mostSpecificWins ? [...more, ...(inner ?? [])] : [...(inner ?? []), ...more];
    return all.length > 0 ? all : undefined;
  };
  const request = combine(route.requestHeaderMutations, outer.request);
  const response = combine(route.responseHeaderMutations, outer.response);
  if (request !== undefined) route.requestHeaderMutations = request;
  if (response !== undefined) route.responseHeaderMutations = response;
}

/**
 * `request_headers_to_add/remove` and `response_headers_to_add/remove` of one level, removals
 * first (envoy source/common/router/header_parser.cc, `HeaderParser::evaluateHeaders`).
 *
 * @throws ConfigError for a pseudo-header or `host` (Envoy refuses them too), or a value with a
 *   `%` format command (the dev proxy has no formatter).
 */
function readHeaderMutations(level: ConfigReader): LevelMutations {
  const read = (removeKey: string, addKey: string): HeaderMutation[] => {
    const mutations: HeaderMutation[] = [];
    for (const [index, name] of level.list(removeKey).entries()) {
      const lower = String(name).toLowerCase();
      checkMutableHeader(lower, `${level.at(removeKey)}[${index}]`);
      mutations.push({ remove: lower });
    }
    for (const option of level.children(addKey)) {
      const header = option.child("header");
      if (!header) throw new ConfigError(`${option.path}.header: missing`);
      const name = header.string("key")?.toLowerCase();
      if (name === undefined || name === "") throw new ConfigError(`${header.path}.key: missing`);
      checkMutableHeader(name, header.at("key"));
      const raw = header.string("value") ?? "";
      if (raw.replace(/%%/g, "").includes("%")) {
        throw new ConfigError(`${header.at("value")}: format commands (%…%) are not supported by the dev proxy`);
      }
      header.finishStrictly();
      const keepEmpty = option.boolean("keep_empty_value") ?? false;
      const action = appendActionOf(option);
      option.finish();
      const value = raw.replace(/%%/g, "%");
      if (value === "" && !keepEmpty) continue;
      mutations.push({ name, value, action });
    }
    return mutations;
  };
  return {
    request: read("request_headers_to_remove", "request_headers_to_add"),
    response: read("response_headers_to_remove", "response_headers_to_add"),
  };
}

/** Envoy refuses to add or remove pseudo-headers and `host` (config_impl.cc). */
function checkMutableHeader(name: string, where: string): void {
  if (name.startsWith(":") || name === "host") throw new ConfigError(`${where}: ":-prefixed" or host headers may not be modified`);
}

const APPEND_ACTIONS = ["APPEND_IF_EXISTS_OR_ADD", "ADD_IF_ABSENT", "OVERWRITE_IF_EXISTS_OR_ADD", "OVERWRITE_IF_EXISTS"] as const;

/** `append_action`, or the deprecated `append` (true: append, false: overwrite); default append. */
function appendActionOf(option: ConfigReader): (typeof APPEND_ACTIONS)[number] {
  const action = option.string("append_action");
  const append = option.raw("append");
  if (action !== undefined) {
    if (!(APPEND_ACTIONS as readonly string[]).includes(action)) throw new ConfigError(`${option.at("append_action")}: unknown action ${action}`);
    return action as (typeof APPEND_ACTIONS)[number];
  }
  const appendValue = typeof append === "object" && append !== null ? (append as { value?: unknown }).value : append;
  if (appendValue === false) return "OVERWRITE_IF_EXISTS_OR_ADD";
  return "APPEND_IF_EXISTS_OR_ADD";
}

function readMatch(match: ConfigReader): RouteConfig {
  const config: RouteConfig = { cluster: "", timeoutMs: DEFAULT_ROUTE_TIMEOUT_MS };
  const specifiers = ["prefix", "path", "safe_regex", "path_separated_prefix"].filter((key) => match.has(key));
  if (specifiers.length !== 1) {
    throw new ConfigError(`${match.path}: give exactly one of prefix, path, safe_regex, path_separated_prefix${specifiers.length > 1 ? ` (got ${specifiers.join(", ")})` : ""}`);
  }
  const prefix = match.string("prefix");
  if (prefix !== undefined) config.prefix = prefix;
  const path = match.string("path");
  if (path !== undefined) config.path = path;
  const separated = match.string("path_separated_prefix");
  if (separated !== undefined) config.pathSeparatedPrefix = separated;
  const safeRegex = match.child("safe_regex");
  if (safeRegex) config.regex = readSafeRegex(safeRegex);
  const caseSensitive = match.boolean("case_sensitive");
  if (caseSensitive === false) config.caseSensitive = false;
  const grpc = match.child("grpc");
  if (grpc) {
    grpc.finish();
    config.grpc = true;
  }
  const headers = match.children("headers").map(readHeaderMatcher);
  if (headers.length > 0) config.headers = headers;
  match.finishStrictly("this route matcher is not supported by the dev proxy (a route would match other requests than in Envoy)");
  return config;
}

/** A `type.matcher.v3.RegexMatcher` (`google_re2` engine). */
function readSafeRegex(regex: ConfigReader): TranslatedRegex {
  regex.accept("google_re2");
  const pattern = regex.string("regex");
  if (pattern === undefined) throw new ConfigError(`${regex.path}.regex: missing`);
  regex.finishStrictly();
  return { ...re2ToJavaScript(pattern, regex.at("regex")), re2: pattern };
}

/** A `config.route.v3.HeaderMatcher`. */
function readHeaderMatcher(matcher: ConfigReader): HeaderMatcherConfig {
  const name = matcher.string("name")?.toLowerCase();
  if (name === undefined) throw new ConfigError(`${matcher.path}.name: missing`);
  const config: HeaderMatcherConfig = { name, kind: "present", value: "" };
  const kinds = ["exact_match", "safe_regex_match", "prefix_match", "suffix_match", "contains_match", "present_match", "string_match", "range_match"].filter((key) => matcher.has(key));
  if (kinds.length > 1) throw new ConfigError(`${matcher.path}: give one match kind (got ${kinds.join(", ")})`);
  matcher.refuse("range_match", "range_match is not supported by the dev proxy");
  const simple: Array<[string, HeaderMatcherConfig["kind"]]> = [
    ["exact_match", "exact"],
    ["prefix_match", "prefix"],
    ["suffix_match", "suffix"],
    ["contains_match", "contains"],
  ];
  for (const [key, kind] of simple) {
    const value = matcher.string(key);
    if (value !== undefined) Object.assign(config, { kind, value });
  }
  const regex = matcher.child("safe_regex_match");
  if (regex) Object.assign(config, { kind: "regex", regex: readSafeRegex(regex) });
  const present = matcher.boolean("present_match");
  if (present !== undefined) config.present = present;
  else if (kinds.length === 0) config.present = true; // no match kind: Envoy checks presence
  const stringMatch = matcher.child("string_match");
  if (stringMatch) {
    const ignoreCase = stringMatch.boolean("ignore_case");
    if (ignoreCase) config.ignoreCase = true;
    const stringKinds: Array<[string, HeaderMatcherConfig["kind"]]> = [...simple.map(([key, kind]) => [key.replace("_match", ""), kind] as [string, HeaderMatcherConfig["kind"]])];
    for (const [key, kind] of stringKinds) {
      const value = stringMatch.string(key);
      if (value !== undefined) Object.assign(config, { kind, value });
    }
    const stringRegex = stringMatch.child("safe_regex");
    if (stringRegex) Object.assign(config, { kind: "regex", regex: readSafeRegex(stringRegex) });
    stringMatch.finishStrictly("this string matcher is not supported by the dev proxy");
  }
  if (matcher.boolean("invert_match") === true) config.invert = true;
  if (matcher.boolean("treat_missing_header_as_empty") === true) config.treatMissingAsEmpty = true;
  matcher.finishStrictly("this header matcher field is not supported by the dev proxy");
  return config;
}

function readAction(action: ConfigReader, config: RouteConfig): void {
  const cluster = action.string("cluster");
  for (const key of ["weighted_clusters", "cluster_header", "cluster_specifier_plugin", "inline_cluster_specifier_plugin"]) {
    action.refuse(key, `${key} is not supported by the dev proxy; name one cluster`);
  }
  if (cluster === undefined) throw new ConfigError(`${action.path}.cluster: missing`);
  config.cluster = cluster;
  const timeout = action.string("timeout");
  if (timeout !== undefined) config.timeoutMs = parseDurationMs(timeout, action.at("timeout"));
  const prefixRewrite = action.string("prefix_rewrite");
  if (prefixRewrite !== undefined) {
    if (config.regex !== undefined) throw new ConfigError(`${action.at("prefix_rewrite")}: needs a prefix, path or path_separated_prefix match`);
    config.prefixRewrite = prefixRewrite;
  }
  const hostRewrite = action.string("host_rewrite_literal");
  if (hostRewrite !== undefined) config.hostRewrite = hostRewrite;
  for (const key of ["regex_rewrite", "path_rewrite_policy", "host_rewrite_header", "host_rewrite_path_regex", "auto_host_rewrite", "upgrade_configs", "request_mirror_policies"]) {
    action.refuse(key, `${key} is not supported by the dev proxy`);
  }
  action.unsupported("retry_policy", "retries are not supported; every request is tried once");
  action.unsupported("idle_timeout", "the stream idle timeout is not enforced; ignored");
  action.unsupported("max_stream_duration", "ignored; only `timeout` applies");
  action.unsupported("hash_policy", "ignored (one endpoint per cluster)");
  action.unsupported("rate_limits");
  action.unsupported("cors", "CORS policies are not applied; ignored");
  action.unsupported("priority");
  action.finish();
}

/** A `config.route.v3.DirectResponseAction`; the body is read now, as Envoy reads `filename` at load. */
function readDirectResponse(direct: ConfigReader, cwd: string): { status: number; body: Buffer } {
  const status = direct.number("status");
  if (status === undefined || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new ConfigError(`${direct.at("status")}: expected an HTTP status from 200 to 599`);
  }
  const source = direct.child("body");
  let body = Buffer.alloc(0);
  if (source) {
    const inline = source.string("inline_string");
    const bytes = source.string("inline_bytes");
    const filename = source.string("filename");
    if (inline !== undefined) body = Buffer.from(inline);
    else if (bytes !== undefined) body = Buffer.from(bytes, "base64");
    else if (filename !== undefined) {
      const path = isAbsolute(filename) ? filename : resolve(cwd, filename);
      try {
        body = readFileSync(path);
      } catch (error) {
        throw new ConfigError(`${source.at("filename")}: cannot read ${path}: ${(error as Error).message}`);
      }
    }
    source.finishStrictly("this body source is not supported by the dev proxy");
  }
  direct.finish();
  return { status, body };
}

/** How a route's match reads in a message: `prefix "/api"`, `path "/x"`, `safe_regex "…"`. */
export function describeMatch(route: RouteConfig): string {
  if (route.prefix !== undefined) return `prefix "${route.prefix}"`;
  if (route.path !== undefined) return `path "${route.path}"`;
  if (route.pathSeparatedPrefix !== undefined) return `path_separated_prefix "${route.pathSeparatedPrefix}"`;
  return `safe_regex "${route.regex?.source ?? ""}"`;
}
