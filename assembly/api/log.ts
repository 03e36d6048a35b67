// Logging at the six Proxy-Wasm levels. The host's level is read lazily, once per callback,
// so a filter can skip building a message the host would drop:
//   if (log.enabled(LogLevel.Debug)) log.debug("body: " + body);
import { LogLevel, WasmResult } from "../abi/enums";
import * as host from "../runtime/hostcalls";
import { OUT_U32, stageText, stagedLength } from "../runtime/memory";

// -2: module start, where proxy_get_log_level is forbidden (so every message is sent);
// -1: inside a callback, level not read yet; 0..6: the host's level for this callback.
let cachedLevel: i32 = -2;

/** Called by the ABI exports on entry to every callback: the host level may have changed. */
export function beginCallback(): void {
  cachedLevel = -1;
}

/** Logging at the six Proxy-Wasm levels, filtered by the host's level. Every function is legal
 * in any callback and during module start, and returns the status of proxy_log (Ok when the
 * message was filtered out). */
export namespace log {
  /**
   * True if the host would keep a message at `level`. Costs one `proxy_get_log_level` per
   * callback (then cached); during module start it is always true. If the host cannot tell,
   * everything is considered enabled.
   */
  export function enabled(level: LogLevel): bool {
    if (cachedLevel == -1) {
      cachedLevel = host.getLogLevel() == WasmResult.Ok ? <i32>load<u32>(OUT_U32) : 0;
    }
    return <i32>level >= cachedLevel;
  }

  /** Sends `message` at `level` if the host keeps that level. Legal everywhere, including
   * module start. Returns the status of proxy_log, or Ok when the message was filtered. */
  export function write(level: LogLevel, message: string): WasmResult {
    const text = changetype<usize>(message); // an address: no shadow-stack slot
    if (!enabled(level)) return WasmResult.Ok;
    const ptr = stageText(0, text);
    return host.log(level, ptr, stagedLength(0));
  }

  /** write() at Trace level. */
  export function trace(message: string): WasmResult { return write(LogLevel.Trace, message); }
  /** write() at Debug level. */
  export function debug(message: string): WasmResult { return write(LogLevel.Debug, message); }
  /** write() at Info level. */
  export function info(message: string): WasmResult { return write(LogLevel.Info, message); }
  /** write() at Warn level. */
  export function warn(message: string): WasmResult { return write(LogLevel.Warn, message); }
  /** write() at Error level. */
  export function error(message: string): WasmResult { return write(LogLevel.Error, message); }
  /** write() at Critical level. */
  export function critical(message: string): WasmResult { return write(LogLevel.Critical, message); }
}
