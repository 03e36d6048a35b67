import { ConfigError } from "./dev-proxy-config";

/**
 * Walks an untyped config document (parsed YAML/JSON) and records every key it was not asked
 * about, so unsupported fields end up in a warning instead of being silently ignored.
 */
export class ConfigReader {
  constructor(
    readonly value: Record<string, unknown>,
    /** Dotted location for messages, e.g. `static_resources.clusters[0]`. */
    readonly path: string,
    /** Where every reader of one document collects its warnings. */
    readonly warnings: string[],
  ) {}

  /** Wraps `value`, which must be a mapping (an error names `path` otherwise). */
  static of(value: unknown, path: string, warnings: string[]): ConfigReader {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new ConfigError(`${path || "config"}: expected a mapping, got ${describe(value)}`);
    }
    return new ConfigReader(value as Record<string, unknown>, path, warnings);
  }

  private readonly seen = new Set<string>();

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  /** The raw value of `key` (marks it as read). */
  raw(key: string): unknown {
    this.seen.add(key);
    return this.value[key];
  }

  string(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw new ConfigError(`${this.at(key)}: expected a string, got ${describe(value)}`);
  }

  number(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== "number" || !Number.isFinite(number)) {
      throw new ConfigError(`${this.at(key)}: expected a number, got ${describe(value)}`);
    }
    return number;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") throw new ConfigError(`${this.at(key)}: expected true or false, got ${describe(value)}`);
    return value;
  }

  /** A nested mapping, or undefined when absent. */
  child(key: string): ConfigReader | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    return ConfigReader.of(value, this.at(key), this.warnings);
  }

  /** A list (absent = empty). */
  list(key: string): unknown[] {
    const value = this.raw(key);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new ConfigError(`${this.at(key)}: expected a list, got ${describe(value)}`);
    return value;
  }

  /** A list of mappings. */
  children(key: string): ConfigReader[] {
    return this.list(key).map((item, index) => ConfigReader.of(item, `${this.at(key)}[${index}]`, this.warnings));
  }

  /** Records `key` as present but unsupported (when present). */
  unsupported(key: string, why = "not supported by the dev proxy; ignored"): void {
    if (this.value[key] === undefined) return;
    this.seen.add(key);
    this.warnings.push(`${this.at(key)}: ${why}`);
  }

  /**
   * Refuses `key` when present: for fields whose absence would make the run behave differently
   * from Envoy (a matcher, a rewrite), so a warning is not enough.
   *
   * @throws ConfigError naming the field.
   */
  refuse(key: string, why = "not supported by the dev proxy"): void {
    if (this.value[key] === undefined) return;
    throw new ConfigError(`${this.at(key)}: ${why}`);
  }

  /** Like `finish`, but any key nobody read is refused rather than warned about. */
  finishStrictly(why = "not supported by the dev proxy"): void {
    for (const key of Object.keys(this.value)) {
      if (!this.seen.has(key)) throw new ConfigError(`${this.at(key)}: ${why}`);
    }
  }

  /** Marks keys as accepted without effect (e.g. `@type`, `name`). */
  accept(...keys: string[]): void {
    for (const key of keys) this.seen.add(key);
  }

  /** Warns about every key nobody read. Call once the mapping is fully handled. */
  finish(): void {
    for (const key of Object.keys(this.value)) {
      if (!this.seen.has(key)) this.warnings.push(`${this.at(key)}: unknown or unsupported field; ignored`);
    }
  }

  warn(message: string): void {
    this.warnings.push(`${this.path || "config"}: ${message}`);
  }

  at(key: string): string {
    return this.path === "" ? key : `${this.path}.${key}`;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "string" ? `"${value}"` : typeof value === "object" ? "a mapping" : String(value);
}

/** Parses a protobuf JSON duration (`"15s"`, `"0.25s"`), the form Envoy configs use, into ms. */
export function parseDurationMs(text: string, where: string): number {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(text.trim());
  if (!match) throw new ConfigError(`${where}: expected a duration like "15s" or "0.25s", got "${text}"`);
  return Math.round(Number(match[1]) * 1000);
}
