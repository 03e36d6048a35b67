import { LOG_LEVELS, LOGGER_NAMES, type LoggerName, type LogLevelName, type ProxyLogger } from "../proxy-logger";

/** What `/logging` answers. */
export interface LoggingAnswer {
  status: number;
  body: string;
}

/**
 * Envoy's `POST /logging` (envoy source/server/admin/logs_handler.cc `handlerLogging` and
 * `changeLogLevel`): exactly one query parameter, one of
 * - `level=<level>`: every logger;
 * - `paths=<name>:<level>,<name>:<level>`: the named loggers;
 * - `<name>=<level>`: the named logger only.
 * Level names are spdlog's (`trace debug info warning error critical off`, no `warn`). An
 * unknown logger or level, an empty name or level, or more than one parameter changes nothing
 * and answers 400 with the error, the usage and the levels; every answer ends with the active
 * loggers. Envoy's admin refuses any method but POST for this state-changing path (405,
 * source/server/admin/admin.cc); the caller checks that before.
 *
 * `onChange` runs once when a change applied, so the filters' `proxy_get_log_level` follows.
 */
export function handleLogging(params: URLSearchParams, logger: ProxyLogger, onChange: () => void): LoggingAnswer {
  const entries = [...params.entries()];
  let error: string | undefined;
  if (entries.length > 0) {
    error = changeLevels(entries, logger);
    if (error === undefined) onChange();
  }
  let body = "";
  if (error !== undefined) {
    body +=
      `error: ${error}\n\n` +
      "usage: /logging?<name>=<level> (change single level)\n" +
      "usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n" +
      "usage: /logging?level=<level> (change all levels)\n" +
      `levels: ${LOG_LEVELS.map((level) => `${level} `).join("")}\n`;
  }
  body += activeLoggers(logger);
  return { status: error === undefined ? 200 : 400, body };
}

/** Envoy's listing: `active loggers:`, one `  name: level` line per logger, a blank line. */
export function activeLoggers(logger: ProxyLogger): string {
  return `active loggers:\n${LOGGER_NAMES.map((name) => `  ${name}: ${logger.levelOf(name)}\n`).join("")}\n`;
}

/** Applies the change, or returns Envoy's error text and changes nothing. */
function changeLevels(entries: Array<[string, string]>, logger: ProxyLogger): string | undefined {
  if (entries.length !== 1) return "invalid number of parameters";
  const [key, value] = entries[0];
  if (key === "level") {
    const level = parseLevel(value);
    if (level === undefined) return "unknown logger level";
    logger.level = level;
    logger.log("admin", "info", `change all log levels: level='${level}'`);
    return undefined;
  }
  const changes = new Map<string, LogLevelName>();
  if (key === "paths") {
    for (const pair of value.split(",").filter((part) => part.trim() !== "")) {
      const colon = pair.indexOf(":");
      const name = (colon < 0 ? pair : pair.slice(0, colon)).trim();
      const levelText = colon < 0 ? "" : pair.slice(colon + 1).trim();
      if (name === "" || levelText === "") return "empty logger name or empty logger level";
      const level = parseLevel(levelText);
      if (level === undefined) return "unknown logger level";
      changes.set(name, level);
    }
  } else {
    const level = parseLevel(value);
    if (level === undefined) return "unknown logger level";
    changes.set(key, level);
  }
  for (const name of changes.keys()) if (!(LOGGER_NAMES as readonly string[]).includes(name)) return "unknown logger name";
  for (const [name, level] of changes) {
    logger.setLevel(name as LoggerName, level);
    logger.log("admin", "info", `change log level: name='${name}' level='${level}'`);
  }
  return undefined;
}

/** spdlog's level names exactly, as Envoy's admin matches them. */
function parseLevel(text: string): LogLevelName | undefined {
  return (LOG_LEVELS as readonly string[]).includes(text) ? (text as LogLevelName) : undefined;
}
