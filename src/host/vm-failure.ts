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
}

const FRAME = /wasm-function\[(\d+)\]:(0x[0-9a-f]+)/i;

export function describeFailure(callback: string, error: unknown, abortMessage: string | undefined, names: ReadonlyMap<number, string>): VmFailure {
  const err = error as { name?: string; message?: string; stack?: string };
  const trap = `Uncaught ${err?.name ?? "Error"}: ${err?.message ?? String(error)}`;
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
  return { callback, trap, abortMessage, backtrace, report: lines.join("\n"), cause: error };
}
