/**
 * The dev proxy's log output, in Envoy's default format
 * `[<date time.ms>][<thread>][<level>][<component>] [<where>] <message>`, so a log line from a
 * filter reads the same here as in `kubectl logs -c istio-proxy`. Colour is used only when the
 * output is a terminal, because escape codes in a file or a pipe are noise.
 */

/** Envoy's log level names, lowest first; `off` silences everything. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "critical", "off"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Parses a level name as Envoy's `/logging?level=` and `--log-level` accept it (`warn` included). */
export function parseLogLevel(text: string): LogLevelName | undefined {
  const lower = text.trim().toLowerCase();
  if (lower === "warn") return "warning";
  if (lower === "err") return "error";
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevelName) : undefined;
}

/** Maps a Proxy-Wasm log level (0 trace .. 5 critical, ABI §2.1) to its Envoy name. */
export function levelFromAbi(level: number): LogLevelName {
  return LOG_LEVELS[Math.max(0, Math.min(5, level))];
}

/** The Proxy-Wasm level number of an Envoy level name (`off` is 6, as `proxy_get_log_level` reports). */
export function levelToAbi(level: LogLevelName): number {
  return LOG_LEVELS.indexOf(level);
}

/** Who wrote a filter log line; mirrors the prefix Envoy builds from the plugin config. */
export interface WasmLogSource {
  pluginName: string;
  rootId: string;
  vmId: string;
  /** Context the callback ran on; root contexts omit the plugin name in Envoy's prefix. */
  contextId: number;
  isRootContext: boolean;
}

/** Anything with a `write` like process.stderr (a test passes an array-backed sink). */
export interface LogOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

const COLOURS: Record<LogLevelName, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warning: "\x1b[33m",
  error: "\x1b[31m",
  critical: "\x1b[1;31m",
  off: "",
};

export interface ProxyLoggerOptions {
  level?: LogLevelName;
  output?: LogOutput;
  /** Force colour on/off; by default it follows `output.isTTY`. */
  colour?: boolean;
  /** Thread label in the second bracket; workers pass their index. */
  thread?: string;
  now?: () => Date;
}

/**
 * The dev proxy's loggers, each with its own level as Envoy's component loggers have (a subset of
 * Envoy's `ALL_LOGGER_IDS`, envoy source/common/common/logger.h): `wasm` carries the filters'
 * `proxy_log` lines and is the level `proxy_get_log_level` reports.
 */
export const LOGGER_NAMES = ["admin", "config", "http", "main", "router", "upstream", "wasm"] as const;
export type LoggerName = (typeof LOGGER_NAMES)[number];

export class ProxyLogger {
  private readonly levels = new Map<string, LogLevelName>();
  readonly output: LogOutput;
  readonly colour: boolean;
  readonly thread: string;
  private readonly now: () => Date;

  constructor(options: ProxyLoggerOptions = {}) {
    this.level = options.level ?? "info";
    this.output = options.output ?? process.stderr;
    this.colour = options.colour ?? Boolean(this.output.isTTY);
    this.thread = options.thread ?? String(process.pid);
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The level of the `wasm` logger (filter lines, `proxy_get_log_level`). Setting it sets every
   * logger, as `--log-level` and `/logging?level=` do.
   */
  get level(): LogLevelName {
    return this.levelOf("wasm");
  }

  set level(level: LogLevelName) {
    for (const name of LOGGER_NAMES) this.levels.set(name, level);
  }

  /** The level of logger `name`; a name outside LOGGER_NAMES follows `main`. */
  levelOf(name: string): LogLevelName {
    return this.levels.get(name) ?? this.levels.get("main") ?? "info";
  }

  /** Sets one logger's level (`/logging?<name>=<level>`). */
  setLevel(name: LoggerName, level: LogLevelName): void {
    this.levels.set(name, level);
  }

  /** True when a line at `level` from `component` would be written; lets callers skip building the message. */
  enabled(level: LogLevelName, component = "wasm"): boolean {
    return level !== "off" && LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(this.levelOf(component));
  }

  /** Writes one proxy line for `component` (e.g. `main`, `http`, `admin`, `upstream`). */
  log(component: string, level: LogLevelName, message: string, where = component): void {
    if (!this.enabled(level, component)) return;
    const levelText = this.colour ? `${COLOURS[level]}${level}\x1b[0m` : level;
    this.output.write(`[${formatTimestamp(this.now())}][${this.thread}][${levelText}][${component}] [${where}] ${message}\n`);
  }

  /**
   * Writes a filter's `proxy_log` line exactly as Envoy does: `wasm log<prefix>: <message>`, the
   * prefix being `" <plugin> <root_id> <vm_id>"` for stream contexts and `" <root_id> <vm_id>"`
   * for root contexts, empty parts omitted (ABI §5.1). The context id goes where Envoy puts the
   * source location, so the part after it stays byte-identical to Envoy.
   */
  wasmLog(abiLevel: number, source: WasmLogSource, message: string): void {
    const level = levelFromAbi(abiLevel);
    if (!this.enabled(level, "wasm")) return;
    this.log("wasm", level, `${wasmLogPrefix(source)}: ${message}`, `context ${source.contextId}`);
  }
}

/** `wasm log my_plugin root vm` (stream) or `wasm log root vm` (root), empty parts left out. */
export function wasmLogPrefix(source: Omit<WasmLogSource, "contextId">): string {
  const parts = source.isRootContext
    ? [source.rootId, source.vmId]
    : [source.pluginName, source.rootId, source.vmId];
  return ["wasm log", ...parts.filter((part) => part !== "")].join(" ");
}

function formatTimestamp(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
  );
}
