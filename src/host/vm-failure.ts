/**
 * How a trapped VM is reported (reference §4.10): Envoy's "Function: <name> failed: <message>"
 * line, the SDK's abort message when there was one, and the in-VM backtrace with function names
 * from the name section.
 */

export interface VmFailure {
  /** The export that was running when the VM failed (e.g. `proxy_on_request_headers`). */
  readonly callback: string;
  /** The trap as V8 words it, e.g. `Uncaught RuntimeError: unreachable`. */
  readonly trap: string;
  /** The SDK's `abort: <message> at <file>:<line>:<column>` line logged just before the trap, if any. */
  readonly abortMessage: string | undefined;
  /** Frames, innermost first, formatted as Envoy prints them: ` N:  0x<offset> - <name>`. */
  readonly backtrace: readonly string[];
  /** Everything above as one multi-line text, as logged at error level. */
  readonly report: string;
  /** The original error. */
  readonly cause: unknown;
  /** True when the host stopped the call because it ran past its time limit (VmOptions.callbackTimeLimitMs). */
  readonly timedOut: boolean;
}

const FRAME = /wasm-function\[(\d+)\]:(0x[0-9a-f]+)/i;

/**
 * `stopReason`, when the host itself stopped the call (time limit), replaces the trap's own
 * message, which would only say `unreachable`.
 */
export function describeFailure(callback: string, error: unknown, abortMessage: string | undefined, names: ReadonlyMap<number, string>, stopReason?: string): VmFailure {
  const err = error as { name?: string; message?: string; stack?: string };
  const trap = stopReason ?? `Uncaught ${err?.name ?? "Error"}: ${err?.message ?? String(error)}`;
  const backtrace: string[] = [];
  for (const line of (err?.stack ?? "").split("\n")) {
    const match = FRAME.exec(line);
    if (match === null) continue;
    const index = Number(match[1]);
    backtrace.push(` ${backtrace.length}:  ${match[2]} - ${names.get(index) ?? `wasm-function[${index}]`}`);
  }
  const lines = [`Function: ${callback} failed: ${trap}`];
  if (abortMessage !== undefined) lines.push(abortMessage);
  if (backtrace.length > 0) lines.push("Proxy-Wasm plugin in-VM backtrace:", ...backtrace);
  return { callback, trap, abortMessage, backtrace, report: lines.join("\n"), cause: error, timedOut: stopReason !== undefined };
}
