/**
 * Envoy's attribute set for `proxy_get_property` (reference §3.5), computed from a context's
 * stream info and plugin description, with user-supplied values layered on top.
 */
import { bytesToString } from "./bytes";
import type { Context } from "./context";
import type { HeaderMap } from "./header-map";
import type { PropertyTree, PropertyValue } from "./plugin-info";
import { mergeTrees } from "./property-values";
import type { StreamInfo } from "./stream-info";

/** Top-level names that need a stream: NotFound in root contexts. */
const STREAM_ATTRIBUTES = new Set(["request", "response", "connection", "upstream", "source", "destination", "metadata", "filter_state", "upstream_filter_state"]);

function headersTree(map: HeaderMap | null): PropertyTree {
  const out: Record<string, string> = {};
  if (map === null) return out;
  for (const [key, value] of map.toArray()) out[key] = key in out ? `${out[key]},${value}` : value;
  return out;
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(":");
  return at < 0 ? [address, 0] : [address, Number(address.slice(at + 1))];
}

function computedStreamTree(info: StreamInfo): PropertyTree {
  const headers = info.requestHeaders;
  const get = (name: string) => (headers?.get(name) === undefined ? undefined : bytesToString(headers.get(name)!));
  const path = get(":path");
  const queryAt = path === undefined ? -1 : path.indexOf("?");
  // Envoy's RequestWrapper answers these from the request headers and leaves an attribute absent
  // (NotFound) when its header is (envoy source/extensions/filters/common/expr/context.cc
  // convertHeaderEntry); an empty string would tell a filter the header was sent empty.
  const request: Record<string, PropertyValue> = {
    scheme: get(":scheme") ?? "http",
    headers: headersTree(headers),
    time: new Date(info.startTimeMs),
    protocol: info.protocol,
    size: Number(get("content-length") ?? info.requestBodySize),
  };
  const fromHeaders: Array<[string, string | undefined]> = [
    ["path", path],
    ["url_path", path === undefined || queryAt < 0 ? path : path.slice(0, queryAt)],
    ["host", get(":authority")],
    ["method", get(":method")],
    ["query", path === undefined ? undefined : queryAt < 0 ? "" : path.slice(queryAt + 1).split("#")[0]],
  ];
  for (const [attribute, value] of fromHeaders) if (value !== undefined) request[attribute] = value;
  for (const [attribute, header] of [["referer", "referer"], ["useragent", "user-agent"], ["id", "x-request-id"]] as const) {
    const value = get(header);
    if (value !== undefined) request[attribute] = value;
  }
  if (info.endTimeMs !== undefined) request.duration = { duration: info.endTimeMs - info.startTimeMs };
  const [sourceAddress, sourcePort] = splitAddress(info.sourceAddress);
  const [destinationAddress, destinationPort] = splitAddress(info.destinationAddress);
  const tree: Record<string, PropertyValue> = {
    request,
    source: { address: sourceAddress, port: sourcePort },
    destination: { address: destinationAddress, port: destinationPort },
    connection: { id: info.connectionId, mtls: false },
    filter_state: {},
    metadata: {},
  };
  if (info.responseHeaders !== null) {
    const status = info.responseHeaders.get(":status");
    tree.response = {
      code: status === undefined ? 0 : Number(bytesToString(status)),
      code_details: info.responseCodeDetails,
      headers: headersTree(info.responseHeaders),
      trailers: headersTree(info.responseTrailers),
      size: info.responseBodySize,
    };
  }
  return tree;
}

/**
 * The value of top-level attribute `name` for `context`, or undefined (NotFound). User values
 * (plugin-wide, then per stream) override computed ones.
 */
export function topLevelAttribute(context: Context, name: string): PropertyValue | undefined {
  const plugin = context.plugin;
  const info = context.streamInfo;
  if (STREAM_ATTRIBUTES.has(name)) {
    if (info === null) return undefined;
    const tree = mergeTrees(mergeTrees(computedStreamTree(info), plugin.properties), info.overrides);
    return tree[name];
  }
  switch (name) {
    case "plugin_name":
      return plugin.name;
    case "plugin_root_id":
      return plugin.rootId;
    case "plugin_vm_id":
      return plugin.vmId;
    case "connection_id":
      return info === null ? undefined : info.connectionId;
  }
  if (info !== null) {
    const stored = info.filterState?.get(name);
    if (stored !== undefined) return stored;
    if (Object.prototype.hasOwnProperty.call(info.overrides, name)) return info.overrides[name];
  }
  return Object.prototype.hasOwnProperty.call(plugin.properties, name) ? plugin.properties[name] : undefined;
}
