import type { CliIo } from "../../src/cli/cli-io";

/** An in-process io capturing output; `stop()` ends a `run`. */
export function captureIo(cwd: string) {
  let stop!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stop = resolve));
  let readyInfo: Record<string, unknown> | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const out = { stdout: "", stderr: "" };
  const io: CliIo = {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
    cwd,
    env: {},
    stopSignal,
    onReady: (info) => {
      readyInfo = info;
      markReady();
    },
  };
  return { io, out, stop: () => stop(), ready, info: () => readyInfo! };
}

