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
 * A hostcall needed the module's linear memory, but the module exports (or imports) none.
 * cpp-host loads such a module and dereferences its null memory at this point (Envoy crashes);
 * here it is a trap that fails the VM.
 */
export class MissingMemoryError extends Error {
  override name = "MissingMemoryError";
  constructor(readonly hostcall: string) {
    super(
      `${hostcall} needs the module's linear memory, but the module exports none ` +
        '(Envoy dereferences a null memory here and crashes); export the memory as "memory"',
    );
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
