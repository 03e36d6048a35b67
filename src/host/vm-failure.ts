/**
 * How a trapped VM is reported (reference §4.10): Envoy's "Function: <name> failed: <message>"
 * line, the SDK's abort message when there was one, and the in-VM backtrace with function names
 * from the name section. With the module's source map, each frame also names its AssemblyScript
 * file:line:column, and the first line names the first frame in the user's own code.
 */
import { formatPosition, type ModuleSourceMap } from "./source-map/module-source-map";
import type { SourcePosition } from "./source-map/wasm-source-map";

export interface VmFailure {
  /** The export that was running when the VM failed (e.g. `proxy_on_request_headers`). */
  readonly callback: string;
  /** The trap as V8 words it, e.g. `Uncaught RuntimeError: unreachable`. */
  readonly trap: string;
  /** The SDK's `abort: <message> at <file>:<line>:<column>` line logged just before the trap, if any. */
  readonly abortMessage: string | undefined;
  /**
   * Frames, innermost first, formatted as Envoy prints them: `  N:  0x<offset> - <name>` (at most
   * 20), followed by ` at <file>:<line>:<column>` where the source map maps the frame.
   */
  readonly backtrace: readonly string[];
  /**
   * The innermost frame's position in the user's own code (not `~lib/`: neither the standard
   * library nor the SDK), when the module's source map gives one; it ends the first line of the report.
   */
  readonly userPosition: SourcePosition | undefined;
  /** Everything above as one multi-line text, as logged at error level. */
  readonly report: string;
  /** The original error. */
  readonly cause: unknown;
  /** True when the host stopped the call because it ran past its time limit (VmOptions.callbackTimeLimitMs). */
  readonly timedOut: boolean;
}

const FRAME = /wasm-function\[(\d+)\]:0x([0-9a-f]+)/i;
/**
 * Frames a failure report keeps: cpp-host runs V8 with `--stack-trace-limit` set to
 * `PROXY_WASM_HOST_MAX_BACKTRACE_FRAMES_COUNT`, 20 (include/proxy-wasm/limits.h, src/v8/v8.cc).
 */
export const MAX_BACKTRACE_FRAMES = 20;

/** What, besides the error, a failure report is built from. */
export interface FailureContext {
  /** The SDK's abort line logged just before the trap, if any. */
  readonly abortMessage?: string;
  /** Function names from the module's `name` section, by function index. */
  readonly names: ReadonlyMap<number, string>;
  /** Set when the host itself stopped the call (time limit): replaces the trap's own message, which would only say `unreachable`. */
  readonly stopReason?: string;
  /**
   * Maps offsets of a module the host rewrote (start section, memory cap, interrupt checks) back,
   * so frames show offsets in the module as given, as Envoy would, and the source map applies.
   */
  readonly originalCodeOffset?: (offset: number) => number;
  /** The module's source map, when the host found one (beside the module or given). */
  readonly sourceMap?: ModuleSourceMap;
}

/**
 * The backtrace is formatted as cpp-host's `V8::getFailMessage` (src/v8/v8.cc) writes it: at most
 * 20 frames, the frame number right-aligned in 3 columns, the offset in hex, the function's name
 * from the `name` section or `unknown(function index:N)`; and no backtrace at all when the module
 * has no function names. Envoy has no source maps: with one, each frame that maps gets
 * ` at <file>:<line>:<column>`, a module without names gets its backtrace too, and the first
 * line ends with ` at <file>:<line>:<column>` of the innermost frame in the user's code (for a
 * library function inlined into the user's, the user's statement before it).
 */
export function describeFailure(callback: string, error: unknown, context: FailureContext): VmFailure {
  const { abortMessage, names, stopReason, originalCodeOffset, sourceMap } = context;
  const err = error as { name?: string; message?: string; stack?: string };
  const trap = stopReason ?? `Uncaught ${err?.name ?? "Error"}: ${err?.message ?? String(error)}`;
  const backtrace: string[] = [];
  let userPosition: SourcePosition | undefined;
  for (const line of names.size === 0 && sourceMap === undefined ? [] : (err?.stack ?? "").split("\n")) {
    const match = FRAME.exec(line);
    if (match === null) continue;
    const index = Number(match[1]);
    const compiledOffset = Number.parseInt(match[2]!, 16);
    const offset = originalCodeOffset === undefined ? compiledOffset : originalCodeOffset(compiledOffset);
    const source = sourceMap?.frameSource(offset);
    userPosition ??= source?.userPosition ?? undefined;
    const at = source?.position ? ` at ${formatPosition(source.position)}` : "";
    backtrace.push(`${String(backtrace.length).padStart(3)}:  0x${offset.toString(16)} - ${names.get(index) ?? `unknown(function index:${index})`}${at}`);
    if (backtrace.length === MAX_BACKTRACE_FRAMES) break;
  }
  const lines = [`Function: ${callback} failed: ${trap}${userPosition === undefined ? "" : ` at ${formatPosition(userPosition)}`}`];
  if (abortMessage !== undefined) lines.push(abortMessage);
  if (backtrace.length > 0) lines.push("Proxy-Wasm plugin in-VM backtrace:", ...backtrace);
  return { callback, trap, abortMessage, backtrace, userPosition, report: lines.join("\n"), cause: error, timedOut: stopReason !== undefined };
}

/** cpp-host's message when `wasm::Instance::make` fails (src/v8/v8.cc `V8::link`). */
export const INSTANTIATION_FAILED_MESSAGE = "Failed to create new Wasm instance";

/**
 * Thrown by the Vm constructor when the module cannot be instantiated: its start section trapped,
 * ran past the time limit or made a hostcall, or V8 refused the instance (memory over the cap, a
 * data segment out of bounds). `message` is cpp-host's; `reason` says what happened, as cpp-host
 * does not; `report` is both, as logged at error level.
 */
export class InstantiationError extends Error {
  override readonly name = "InstantiationError";
  readonly report: string;

  constructor(readonly reason: string, readonly failure: VmFailure | undefined) {
    super(INSTANTIATION_FAILED_MESSAGE);
    this.report = `${INSTANTIATION_FAILED_MESSAGE}\n${reason}`;
  }
}
