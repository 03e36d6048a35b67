// The log lines of a test host (every plugin line and the host's lines about the plugin). They
// stay readable when the plugin failed to start, which is how configuration errors are tested.

import { check } from "./errors";
import { decodeFields } from "./field_list";
import * as host from "./imports";

/** Log levels are Envoy's names: "trace", "debug", "info", "warn", "error", "critical". */
export class Logs {
  constructor(private readonly host: i32) {}

  /** Messages at exactly `level` ("" = every level), in order. Aborts on an unknown level. */
  messages(level: string = ""): string[] {
    const text = host.logs_messages(this.host, level);
    check();
    return decodeFields(text);
  }

  /** How many messages were written at `level` ("" = every level). */
  count(level: string = ""): i32 {
    return this.messages(level).length;
  }

  /** Full lines as Envoy prints them, e.g. `wasm log my_plugin: hello`. */
  lines(): string[] {
    const text = host.logs_lines(this.host);
    check();
    return decodeFields(text);
  }

  /** True when some message equals `message` exactly, at `level` ("" = any). */
  contains(message: string, level: string = ""): bool {
    const found = host.logs_contains(this.host, message, level);
    check();
    return found != 0;
  }

  /** True when some message includes `fragment`, at `level` ("" = any). */
  includes(fragment: string, level: string = ""): bool {
    const found = host.logs_includes(this.host, fragment, level);
    check();
    return found != 0;
  }

  /** Forgets the lines so far (e.g. the start-up lines). */
  clear(): void {
    host.logs_clear(this.host);
    check();
  }
}
