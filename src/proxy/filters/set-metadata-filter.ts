import type { MetadataEntry } from "../config/dev-proxy-config";
import type { HeaderList } from "../header-list";
import type { HttpFilterFactory, HttpFilterSink, HttpFilterStream, HttpStreamInfo } from "./http-filter";
import type { ProxyStats } from "../proxy-stats";

/**
 * `envoy.filters.http.set_metadata`: on request headers, writes its entries into the stream's
 * dynamic metadata, then continues; every other event passes untouched. As Envoy's filter does
 * (envoy source/extensions/filters/http/set_metadata/set_metadata_filter.cc, `decodeHeaders`): a
 * namespace not there yet gets the value; an existing one is merged into when `allow_overwrite`
 * (Struct merge: mappings recursively, lists appended, anything else replaced), otherwise left
 * alone and `<stat_prefix>set_metadata.overwrite_denied` counted.
 */
export class SetMetadataFilter implements HttpFilterFactory {
  readonly name = "envoy.filters.http.set_metadata";

  constructor(
    private readonly entries: readonly MetadataEntry[],
    private readonly stats: ProxyStats,
  ) {}

  createStream(sink: HttpFilterSink, info: HttpStreamInfo): HttpFilterStream {
    return new SetMetadataStream(this.entries, sink, info, this.stats);
  }
}

class SetMetadataStream implements HttpFilterStream {
  constructor(
    private readonly entries: readonly MetadataEntry[],
    private readonly sink: HttpFilterSink,
    private readonly info: HttpStreamInfo,
    private readonly stats: ProxyStats,
  ) {}

  requestHeaders(headers: HeaderList, endOfStream: boolean): void {
    const metadata = (this.info.dynamicMetadata ??= {});
    for (const entry of this.entries) {
      const existing = metadata[entry.namespace];
      if (existing === undefined) metadata[entry.namespace] = structuredClone(entry.value);
      else if (entry.allowOverwrite) mergeStruct(existing, entry.value);
      else this.stats.http("set_metadata.overwrite_denied");
    }
    this.sink.requestHeaders(headers, endOfStream);
  }
  requestBody(chunk: Buffer, endOfStream: boolean): void {
    this.sink.requestBody(chunk, endOfStream);
  }
  requestTrailers(trailers: HeaderList): void {
    this.sink.requestTrailers(trailers);
  }
  responseHeaders(headers: HeaderList, endOfStream: boolean): void {
    this.sink.responseHeaders(headers, endOfStream);
  }
  responseBody(chunk: Buffer, endOfStream: boolean): void {
    this.sink.responseBody(chunk, endOfStream);
  }
  responseTrailers(trailers: HeaderList): void {
    this.sink.responseTrailers(trailers);
  }
  finish(): void {}
}

/** Envoy's `StructUtil::update` (source/common/protobuf/utility.cc): merges `update` into `target`. */
function mergeStruct(target: Record<string, unknown>, update: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(update)) {
    const current = target[key];
    if (isMapping(current) && isMapping(value)) mergeStruct(current, value);
    else if (Array.isArray(current) && Array.isArray(value)) current.push(...structuredClone(value));
    else target[key] = structuredClone(value);
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
