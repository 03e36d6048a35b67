/**
 * The ABI values the host core uses, under the names the core reads best (`Result.NotFound`,
 * `LogLevel.info`). Every value comes from the ABI tables in `src/host/abi/`, the single source
 * of the wire numbers (reference §2).
 */
import { LogLevel as AbiLogLevel, WasmResult } from "./abi";

export {
  BufferType, GrpcStatus, MapType, MAX_BUFFER_TYPE, MAX_MAP_TYPE, MetricType, PeerType, StreamType,
  type AbiVersion,
} from "./abi";

/** `proxy_status_t` / WasmResult (§2.2). */
export const Result = WasmResult;
export type ResultCode = WasmResult;

/**
 * Log levels by the names Envoy's configuration and admin endpoint use (§2.1); 6 is Envoy's
 * "off", which only `proxy_get_log_level` reports.
 */
export const LogLevel = {
  trace: AbiLogLevel.Trace,
  debug: AbiLogLevel.Debug,
  info: AbiLogLevel.Info,
  warn: AbiLogLevel.Warn,
  error: AbiLogLevel.Error,
  critical: AbiLogLevel.Critical,
  off: AbiLogLevel.Off,
} as const;
export type LogLevelName = keyof typeof LogLevel;
export const LOG_LEVEL_NAMES: readonly LogLevelName[] = ["trace", "debug", "info", "warn", "error", "critical", "off"];
