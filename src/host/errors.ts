/**
 * Errors the host raises inside hostcalls. They never escape to the user as such: a memory error
 * becomes `InvalidMemoryAccess`, a restricted call becomes a trap that fails the VM.
 */

/** A pointer/size pair outside linear memory; hostcalls turn it into `InvalidMemoryAccess`. */
export class MemoryAccessError extends Error {
  override name = "MemoryAccessError";
}

/** A hostcall made while only the restricted set is allowed (module start, allocator). Traps. */
export class RestrictedCallError extends Error {
  override name = "RestrictedCallError";
  constructor(readonly hostcall: string, readonly phase: "start" | "allocator") {
    super(`restricted_callback: ${hostcall} is not allowed during ${phase === "start" ? "module start" : "the allocator"}`);
  }
}
