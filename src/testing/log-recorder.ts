/**
 * Collects every log line of a test host, with helpers to assert on them.
 */
import type { LogLevelName, LogRecord } from "../host";

export class LogRecorder {
  readonly records: LogRecord[] = [];

  /** The sink to register with the process. */
  readonly sink = (record: LogRecord): void => {
    this.records.push(record);
  };

  /** Messages written at exactly `level`, in order. */
  at(level: LogLevelName): string[] {
    return this.records.filter((r) => r.level === level).map((r) => r.message);
  }

  /** Every message, in order. */
  get messages(): string[] {
    return this.records.map((r) => r.message);
  }

  /** Full lines as Envoy prints them (e.g. `wasm log my_plugin: hello`). */
  get lines(): string[] {
    return this.records.map((r) => r.line);
  }

  /** True when a message equals `text` (string) or matches it (RegExp), optionally at one level. */
  contains(text: string | RegExp, level?: LogLevelName): boolean {
    return this.records.some((r) => (level === undefined || r.level === level) && (typeof text === "string" ? r.message === text : text.test(r.message)));
  }

  /** True when some message includes `fragment`. */
  includes(fragment: string, level?: LogLevelName): boolean {
    return this.records.some((r) => (level === undefined || r.level === level) && r.message.includes(fragment));
  }

  clear(): void {
    this.records.length = 0;
  }
}
