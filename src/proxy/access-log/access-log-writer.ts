import { createWriteStream, openSync, type WriteStream } from "node:fs";
import type { AccessLogConfig } from "../config/access-log-config";
import type { LogOutput } from "../proxy-logger";
import type { AccessLogEntry } from "./access-log-entry";
import { compileAccessLogFormat, type AccessLogFormatter } from "./access-log-format";

/** Where `/dev/stdout` and `/dev/stderr` go (the CLI passes its own streams). */
export interface AccessLogStreams {
  stdout: LogOutput;
  stderr: LogOutput;
}

/**
 * The HTTP connection manager's access loggers: each finished stream is formatted by every
 * logger and appended to its file (`/dev/stdout` and `/dev/stderr` are the process's streams),
 * as Envoy's file and stdout access loggers do. Writes are buffered, as Envoy's are.
 */
export class AccessLogWriter {
  private constructor(private readonly sinks: ReadonlyArray<{ format: AccessLogFormatter; output: LogOutput; file?: WriteStream }>) {}

  /**
   * Opens every configured log (the config reader already named what a format uses and the
   * proxy cannot print); a write that fails later goes to `warn`. Null when none is configured.
   *
   * @throws Error naming the file when one cannot be opened for appending.
   */
  static open(configs: readonly AccessLogConfig[], streams: AccessLogStreams, warn: (message: string) => void): AccessLogWriter | null {
    if (configs.length === 0) return null;
    const sinks = configs.map((config) => {
      const format = compileAccessLogFormat(config.format, () => {});
      if (config.path === "/dev/stdout") return { format, output: streams.stdout };
      if (config.path === "/dev/stderr") return { format, output: streams.stderr };
      // Opened now, so a path that cannot be written stops the start, as Envoy refuses it.
      let fd: number;
      try {
        fd = openSync(config.path, "a");
      } catch (error) {
        throw new Error(`cannot open access log ${config.path}: ${(error as Error).message}`);
      }
      const file = createWriteStream("", { fd });
      file.on("error", (error) => warn(`access log ${config.path}: ${error.message}`));
      return { format, output: file, file };
    });
    return new AccessLogWriter(sinks);
  }

  record(entry: AccessLogEntry): void {
    for (const sink of this.sinks) sink.output.write(sink.format(entry));
  }

  /** Flushes and closes the files. */
  async close(): Promise<void> {
    await Promise.all(
      this.sinks.map((sink) => (sink.file === undefined ? undefined : new Promise<void>((resolve) => sink.file!.end(() => resolve())))),
    );
  }
}
