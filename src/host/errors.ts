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

/**
 * A hostcall made from the module's wasm start section. cpp-host runs the start section while
 * linking, when no context is current, and its hostcalls dereference that null context (Envoy
 * crashes); here it is a trap that fails the instantiation.
 */
export class StartSectionHostcallError extends Error {
  override name = "StartSectionHostcallError";
  constructor(readonly hostcall: string) {
    super(
      `${hostcall} called from the wasm start section, where no context is current ` +
        "(Envoy dereferences a null context here and crashes); do this work in _initialize or proxy_on_vm_start",
    );
  }
}
