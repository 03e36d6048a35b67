/**
 * Log records produced by the host: plugin logs (`proxy_log`, WASI stdout/stderr) in Envoy's
 * `wasm log<prefix>: <message>` format, and host messages (traps, restricted calls).
 */
import type { LogLevelName } from "./constants";

export interface LogRecord {
  /** Envoy log level of the line. */
  readonly level: LogLevelName;
  /** "wasm" for lines the plugin wrote, "host" for lines the host wrote about the plugin. */
  readonly source: "wasm" | "host";
  /** The message exactly as the plugin (or host) produced it. */
  readonly message: string;
  /** The full line as Envoy prints it after the `[level]` tag, e.g. `wasm log my_plugin 1: hi`. */
  readonly line: string;
  /** Context id that was current (or effective) when the line was written; 0 for the VM. */
  readonly contextId: number;
  readonly pluginName: string;
  readonly vmId: string;
}

export type LogSink = (record: LogRecord) => void;

/**
 * The prefix Envoy puts after `wasm log`: `" <plugin name> <root_id> <vm_id>"` for stream contexts,
 * `" <root_id> <vm_id>"` for root contexts; empty parts are left out (reference §5.1).
 */
export function wasmLogPrefix(isRoot: boolean, pluginName: string, rootId: string, vmId: string): string {
  const parts = isRoot ? [rootId, vmId] : [pluginName, rootId, vmId];
  let prefix = "";
  for (const part of parts) if (part !== "") prefix += " " + part;
  return prefix;
}
