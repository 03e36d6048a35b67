import { compileAccessLogFormat, DEFAULT_ACCESS_LOG_FORMAT } from "../access-log/access-log-format";
import type { ConfigReader } from "./config-reader";
import { ConfigError } from "./dev-proxy-config";

/** One access log of the HTTP connection manager. */
export interface AccessLogConfig {
  /** A file path; `/dev/stdout` and `/dev/stderr` are the process's streams. */
  path: string;
  /** An Envoy text format string (command operators such as `%RESPONSE_CODE%`). */
  format: string;
}

const FILE_LOGGER = "envoy.access_loggers.file";
const STDOUT_LOGGER = "envoy.access_loggers.stdout";
const STDERR_LOGGER = "envoy.access_loggers.stderr";
const TYPE_NAMES: Record<string, string> = {
  "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog": FILE_LOGGER,
  "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog": STDOUT_LOGGER,
  "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog": STDERR_LOGGER,
};

/** The access log of `run --access-log PATH` (`-` for stdout), in Envoy's default format. */
export function accessLogFromFlag(value: string): AccessLogConfig {
  return { path: value === "-" ? "/dev/stdout" : value, format: DEFAULT_ACCESS_LOG_FORMAT };
}

/**
 * Reads the HCM's `access_log` list (envoy.config.accesslog.v3.AccessLog): the file logger
 * (`path`) and the stdout/stderr loggers, each with Envoy's default format or
 * `log_format.text_format_source.inline_string` / `text_format` / the deprecated `format`.
 * A JSON format, another logger or an access log `filter` is named in a warning: the logger is
 * left out (a filter: it logs every stream), never silently.
 *
 * @throws ConfigError for a file logger without `path`.
 */
export function readAccessLogs(entries: readonly ConfigReader[]): AccessLogConfig[] {
  const logs: AccessLogConfig[] = [];
  for (const entry of entries) {
    const typed = entry.child("typed_config");
    const typeUrl = typed?.string("@type");
    const name = (typeUrl !== undefined ? TYPE_NAMES[typeUrl] : undefined) ?? entry.string("name");
    entry.accept("name");
    entry.unsupported("filter", "access log filters are not supported; every stream is logged");
    if (name !== FILE_LOGGER && name !== STDOUT_LOGGER && name !== STDERR_LOGGER) {
      entry.accept("typed_config");
      entry.warn(`access logger ${typeUrl ?? name ?? "(unnamed)"} is not supported (only ${FILE_LOGGER}, ${STDOUT_LOGGER} and ${STDERR_LOGGER}); this access log is left out`);
      entry.finish();
      continue;
    }
    let path = name === STDOUT_LOGGER ? "/dev/stdout" : "/dev/stderr";
    if (name === FILE_LOGGER) {
      const filePath = typed?.string("path");
      if (filePath === undefined || filePath === "") throw new ConfigError(`${typed?.path ?? entry.at("typed_config")}.path: missing (the file access logger needs a path)`);
      path = filePath;
    }
    const format = typed === undefined ? DEFAULT_ACCESS_LOG_FORMAT : readFormat(typed);
    if (format !== null) {
      // Compiled once here only to name what the format uses and the proxy cannot print.
      compileAccessLogFormat(format, (message) => entry.warn(message));
      logs.push({ path, format });
    }
    typed?.finish();
    entry.finish();
  }
  return logs;
}

/** The text format of a logger's typed_config; null (warned) when it is one the proxy cannot write. */
function readFormat(typed: ConfigReader): string | null {
  const legacy = typed.string("format");
  if (typed.has("json_format") || typed.has("typed_json_format")) {
    // The deprecated top-level spellings of log_format.json_format.
    typed.accept("json_format", "typed_json_format");
    typed.warn("JSON access log formats are not supported by the dev proxy; this access log is left out");
    return null;
  }
  const logFormat = typed.child("log_format");
  if (logFormat === undefined) return legacy ?? DEFAULT_ACCESS_LOG_FORMAT;
  let format: string | null = DEFAULT_ACCESS_LOG_FORMAT;
  const source = logFormat.child("text_format_source");
  const text = logFormat.string("text_format");
  if (source !== undefined) {
    const inline = source.string("inline_string");
    source.unsupported("filename", "format files are not supported; give inline_string");
    source.unsupported("inline_bytes", "give the format as inline_string");
    source.finish();
    if (inline === undefined) {
      logFormat.warn("text_format_source without inline_string: this access log is left out");
      format = null;
    } else {
      format = inline;
    }
  } else if (text !== undefined) {
    format = text;
  } else if (logFormat.has("json_format") || logFormat.has("typed_json_format")) {
    logFormat.accept("json_format", "typed_json_format");
    logFormat.warn("JSON access log formats are not supported by the dev proxy; this access log is left out");
    format = null;
  }
  logFormat.accept("content_type");
  logFormat.unsupported("omit_empty_values", "not supported; empty values print as -");
  logFormat.unsupported("formatters", "formatter extensions are not supported; ignored");
  logFormat.finish();
  return format;
}
