import type { ClusterConfig, HeaderMatcherConfig, RouteConfig, RouteTableConfig, VirtualHostConfig } from "../config/dev-proxy-config";
import type { HeaderList } from "../header-list";

/** A route with its regexes compiled once. */
interface CompiledRoute {
  config: RouteConfig;
  /** `routeProperties` of the route, made once. */
  properties: Record<string, unknown>;
  regex?: RegExp;
  headers: Array<{ config: HeaderMatcherConfig; regex?: RegExp }>;
}

interface CompiledHost {
  config: VirtualHostConfig;
  routes: CompiledRoute[];
}

/**
 * The HCM's route table, matched as Envoy's `RouteMatcher` and `RouteEntryImplBase` match (envoy
 * source/common/router/config_impl.cc):
 *
 * - **Virtual host** by `:authority`, lower-cased (its port left out with
 *   `ignore_port_in_host_matching`): an exact domain first, then the longest `*suffix`, then the
 *   longest `prefix*` (a wildcard never matches the empty string), then `*`. With only a `*` host,
 *   every request (even without authority) gets it.
 * - **Route**: the first of the host's routes whose path match and header matchers all hold.
 *   `prefix` compares with the whole `:path` (query included); `path`, `path_separated_prefix`
 *   and `safe_regex` with the path before `?` or `#`; `safe_regex` must match all of it.
 */
export class RouteTable {
  private readonly exact = new Map<string, CompiledHost>();
  /** Longest first. */
  private readonly suffixes: Array<[string, CompiledHost]> = [];
  private readonly prefixes: Array<[string, CompiledHost]> = [];
  private readonly fallback: CompiledHost | undefined;
  private readonly ignorePort: boolean;
  private readonly propertiesOf = new Map<RouteConfig, Record<string, unknown>>();

  /** `clusters` give the routes' `xds.cluster_metadata` property (a cluster's `filter_metadata`). */
  constructor(config: RouteTableConfig, clusters?: ReadonlyMap<string, ClusterConfig>) {
    this.ignorePort = config.ignorePortInHostMatching === true;
    let fallback: CompiledHost | undefined;
    for (const host of config.virtualHosts) {
      const compiled: CompiledHost = { config: host, routes: host.routes.map((route) => compileRoute(route, host, clusters?.get(route.cluster))) };
      for (const route of compiled.routes) this.propertiesOf.set(route.config, route.properties);
      for (const domain of host.domains) {
        if (domain === "*") fallback = compiled;
        else if (domain.startsWith("*")) this.suffixes.push([domain.slice(1), compiled]);
        else if (domain.endsWith("*")) this.prefixes.push([domain.slice(0, -1), compiled]);
        else this.exact.set(domain, compiled);
      }
    }
    this.fallback = fallback;
    this.suffixes.sort((a, b) => b[0].length - a[0].length);
    this.prefixes.sort((a, b) => b[0].length - a[0].length);
  }

  /** The route for a request with these headers, or undefined (Envoy answers 404 `route_not_found`). */
  route(headers: HeaderList): RouteConfig | undefined {
    const host = this.virtualHost(headers);
    if (host === undefined) return undefined;
    const path = valueOf(headers, ":path") ?? "";
    for (const route of host.routes) if (routeMatches(route, path, headers)) return route.config;
    return undefined;
  }

  /** The properties `route` (one of this table's) gives its streams' filters; the same object every time. */
  properties(route: RouteConfig): Record<string, unknown> | undefined {
    return this.propertiesOf.get(route);
  }

  private virtualHost(headers: HeaderList): CompiledHost | undefined {
    if (this.exact.size === 0 && this.suffixes.length === 0 && this.prefixes.length === 0) return this.fallback;
    let authority = valueOf(headers, ":authority");
    if (authority === undefined) return undefined;
    if (this.ignorePort) authority = withoutPort(authority);
    const host = authority.toLowerCase();
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    for (const [suffix, compiled] of this.suffixes) if (host.length > suffix.length && host.endsWith(suffix)) return compiled;
    for (const [prefix, compiled] of this.prefixes) if (host.length > prefix.length && host.startsWith(prefix)) return compiled;
    return this.fallback;
  }
}

/**
 * The `:path` the upstream gets from a route with `prefix_rewrite`: the matched part (the prefix,
 * or the whole path before the query for `path` matches) replaced, the rest kept (envoy
 * source/common/router/config_impl.cc, `RouteEntryImplBase::finalizePathHeader`). Unchanged
 * without a rewrite.
 */
export function rewrittenPath(route: RouteConfig, path: string): string {
  if (route.prefixRewrite === undefined) return path;
  const matched = route.prefix ?? route.pathSeparatedPrefix ?? route.path ?? "";
  return route.prefixRewrite + path.slice(matched.length);
}

function compileRoute(config: RouteConfig, host: VirtualHostConfig, cluster: ClusterConfig | undefined): CompiledRoute {
  return {
    config,
    properties: routeProperties(config, host, cluster),
    regex: config.regex === undefined ? undefined : new RegExp(config.regex.source, config.regex.flags),
    headers: (config.headers ?? []).map((matcher) => ({
      config: matcher,
      regex: matcher.regex === undefined ? undefined : new RegExp(matcher.regex.source, matcher.regex.flags + (matcher.ignoreCase && !matcher.regex.flags.includes("i") ? "i" : "")),
    })),
  };
}

function routeMatches(route: CompiledRoute, path: string, headers: HeaderList): boolean {
  const config = route.config;
  if (config.grpc === true && !(valueOf(headers, "content-type") ?? "").startsWith("application/grpc")) return false;
  for (const matcher of route.headers) if (!headerMatches(matcher.config, matcher.regex, headers)) return false;
  const caseSensitive = config.caseSensitive !== false;
  if (config.prefix !== undefined) {
    return caseSensitive ? path.startsWith(config.prefix) : path.toLowerCase().startsWith(config.prefix.toLowerCase());
  }
  const bare = pathWithoutQuery(path);
  if (config.path !== undefined) return caseSensitive ? bare === config.path : bare.toLowerCase() === config.path.toLowerCase();
  if (config.pathSeparatedPrefix !== undefined) {
    const prefix = config.pathSeparatedPrefix;
    return bare === prefix || bare.startsWith(`${prefix}/`);
  }
  return route.regex !== undefined && route.regex.test(bare);
}

/**
 * Envoy's `HeaderUtility::matchHeaders` (envoy source/common/http/header_utility.cc): the values
 * of a repeated header are joined with `,`; a missing header matches only a `present_match:
 * false` (or, inverted, a `present_match: true`) unless `treat_missing_header_as_empty`.
 */
function headerMatches(matcher: HeaderMatcherConfig, regex: RegExp | undefined, headers: HeaderList): boolean {
  const values: string[] = [];
  for (const [name, value] of headers) if (name === matcher.name) values.push(value);
  const invert = matcher.invert === true;
  if (values.length === 0 && matcher.treatMissingAsEmpty !== true) {
    const present = matcher.kind === "present" && matcher.present !== false;
    return matcher.kind === "present" && (invert ? present : !present);
  }
  let value = values.join(",");
  let expected = matcher.value;
  if (matcher.ignoreCase === true) {
    value = value.toLowerCase();
    expected = expected.toLowerCase();
  }
  let match: boolean;
  switch (matcher.kind) {
    case "exact":
      match = value === expected;
      break;
    case "prefix":
      match = value.startsWith(expected);
      break;
    case "suffix":
      match = value.endsWith(expected);
      break;
    case "contains":
      match = value.includes(expected);
      break;
    case "regex":
      match = regex !== undefined && regex.test(values.join(","));
      break;
    case "present":
      match = matcher.present !== false;
      break;
  }
  return match !== invert;
}

function valueOf(headers: HeaderList, name: string): string | undefined {
  for (const [key, value] of headers) if (key === name) return value;
  return undefined;
}

function pathWithoutQuery(path: string): string {
  const end = path.search(/[?#]/);
  return end < 0 ? path : path.slice(0, end);
}

/** `host:port` -> `host`, `[::1]:80` -> `[::1]`; a bare IPv6 address stays as it is. */
function withoutPort(authority: string): string {
  const match = /^(\[[^\]]*\]|[^:]*):\d*$/.exec(authority);
  return match ? match[1] : authority;
}

/**
 * The properties a route gives its streams' filters, as Envoy's attributes name them (envoy
 * source/extensions/filters/common/expr/context.cc, `XDSWrapper`): `xds.route_name`,
 * `xds.cluster_name`, `xds.virtual_host_name`, `xds.route_metadata`, `xds.cluster_metadata` (the
 * route's cluster's metadata, `filter_metadata` only, as a TCP connection gets it from tcp_proxy's
 * cluster), and the older top-level `route_name`, `cluster_name`, `route_metadata`. Empty parts are
 * left out.
 */
export function routeProperties(route: RouteConfig, virtualHost: VirtualHostConfig, cluster?: ClusterConfig): Record<string, unknown> {
  const xds: Record<string, unknown> = {};
  const legacy: Record<string, unknown> = {};
  if (route.name !== undefined) xds.route_name = legacy.route_name = route.name;
  if (route.cluster !== "") xds.cluster_name = legacy.cluster_name = route.cluster;
  if (cluster?.filterMetadata !== undefined) xds.cluster_metadata = { filter_metadata: cluster.filterMetadata };
  if (virtualHost.name !== "") xds.virtual_host_name = virtualHost.name;
  if (route.metadata !== undefined) xds.route_metadata = legacy.route_metadata = route.metadata;
  return { xds, ...legacy };
}
