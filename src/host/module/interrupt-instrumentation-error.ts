/**
 * A module that {@link addInterruptChecks} cannot rewrite safely: an opcode or type form the
 * instruction decoder does not know, or a module that already carries the interrupt exports.
 * The caller should run the module un-instrumented (e.g. in a worker thread that can be
 * terminated from outside) rather than guess.
 */
export class InterruptInstrumentationError extends Error {
  override readonly name = "InterruptInstrumentationError";

  constructor(
    readonly detail: string,
    /** Byte offset in the original module, when the problem is at a known place. */
    readonly offset?: number,
  ) {
    super(offset === undefined ? detail : `${detail} at offset ${offset}`);
  }
}
