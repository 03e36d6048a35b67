/**
 * The test host's trace mode (reference §8.2): one line per call across the ABI, in cpp-host's
 * trace format, so a test can assert exactly which callbacks and hostcalls a request caused:
 *
 *     [host->vm] proxy_on_request_headers(2, 3, 1)
 *     [vm->host] env.proxy_log(2, 256, 5)
 *     [vm<-host] env.proxy_log return: 0
 *     [host<-vm] proxy_on_request_headers return: 0
 *
 * Arguments and results print as unsigned decimals, as cpp-host does; a call that trapped has no
 * return line. Nothing is observed (and nothing costs) unless a trace was asked for.
 */
import type { HostcallObserver } from "../host/imports";
import type { CallbackObserver } from "../host/vm";

/** Where trace lines go: `true` prints them to stderr; a function receives each line. */
export type TraceOption = boolean | ((line: string) => void);

function unsigned(value: unknown): string {
  if (typeof value === "bigint") return BigInt.asUintN(64, value).toString();
  if (typeof value === "number") return Number.isInteger(value) ? String(value >>> 0) : String(value);
  return String(value);
}

function argumentList(args: readonly unknown[]): string {
  return args.map(unsigned).join(", ");
}

export class CallTrace {
  /** Every line traced so far, oldest first. */
  readonly lines: string[] = [];

  constructor(private readonly sink: ((line: string) => void) | undefined) {}

  /** A trace for `option`, or undefined when tracing is off (`false` or absent). */
  static from(option: TraceOption | undefined): CallTrace | undefined {
    if (option === undefined || option === false) return undefined;
    return new CallTrace(option === true ? (line) => process.stderr.write(line + "\n") : option);
  }

  /** Forgets the recorded lines (the sink has already seen them). */
  clear(): void {
    this.lines.length = 0;
  }

  private emit(line: string): void {
    this.lines.push(line);
    this.sink?.(line);
  }

  /** Observes calls into the module: `[host->vm] name(args)` then `[host<-vm] name return: r`. */
  readonly onCallback: CallbackObserver = (name, args) => {
    this.emit(`[host->vm] ${name}(${argumentList(args)})`);
    return (result) => this.emit(`[host<-vm] ${name} return: ${result === undefined ? "void" : unsigned(result)}`);
  };

  /** Observes hostcalls: `[vm->host] module.name(args)` then `[vm<-host] module.name return: r`. */
  readonly onHostcall: HostcallObserver = (module, name, args) => {
    const qualified = `${module}.${name}`;
    this.emit(`[vm->host] ${qualified}(${argumentList(args)})`);
    return (result) => this.emit(`[vm<-host] ${qualified} return: ${result === undefined ? "void" : unsigned(result)}`);
  };
}

/** Runs `first` then `second` on every hostcall; the result goes to whichever asked for it. */
export function combineHostcallObservers(first: HostcallObserver | undefined, second: HostcallObserver | undefined): HostcallObserver | undefined {
  if (first === undefined) return second;
  if (second === undefined) return first;
  return (module, name, args) => {
    const a = first(module, name, args);
    const b = second(module, name, args);
    if (typeof a !== "function") return b;
    if (typeof b !== "function") return a;
    return (result) => {
      a(result);
      b(result);
    };
  };
}
