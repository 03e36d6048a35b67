/**
 * Where a command writes and from where it works. Commands take this instead of touching
 * `process` so tests can run them in-process and read exactly what they printed.
 */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  cwd: string;
  env: NodeJS.ProcessEnv;
  /**
   * Resolves when a long-running command (`run`) should stop; the real CLI resolves it on
   * SIGINT/SIGTERM, tests resolve it themselves.
   */
  stopSignal: Promise<void>;
  /** Called by long-running commands once they are up, with what they serve (tests read the ports). */
  onReady?: (info: Record<string, unknown>) => void;
}

/** A usage mistake: printed with the command's usage and exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The process-backed io the real CLI uses. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    stopSignal: new Promise((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }),
  };
}
