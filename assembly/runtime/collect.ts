// When garbage is collected. The SDK builds with AssemblyScript's minimal runtime (TLSF and a
// stop-the-world mark and sweep), which never collects by itself and finds live objects from the
// globals only, so a collection is safe only when no AssemblyScript frame holds a reference in a
// local: between callbacks. Every callback export counts itself in and out; only the outermost one
// may collect, on its way out. A callback the host runs inside another (Envoy does not, but
// nothing stops a host from doing so through a hostcall) only counts, so the outer callback's
// locals stay valid. The incremental runtime's shadow stack (which makes a collection safe
// anywhere) cost about 2.5 KB of code in add_header (docs/sdk-internals.md, "Size techniques").
//
// Each collection marks the whole live heap, so collecting after every callback cost a small
// filter about 6k instructions per request (bench shape f1_add_header: 72.4k against 66.5k with
// no collection) and a filter holding a large configuration far more. The outermost callback
// therefore collects when either:
// - the linear memory grew since the last collection: the allocator found no free block, so
//   garbage is crowding the heap (TLSF then doubles the memory; collecting at once keeps the
//   next growth as far away as the live data allows), or
// - it is every COLLECT_EVERY-th outermost callback: garbage is bounded by what that many callbacks
//   allocate, and the cost of a collection is spread over them.
//
// A trap leaves the count raised, so the module never collects again; Envoy and cpp-host call
// nothing in a VM after a trap (the VM is failed), so nothing is lost.

/** Outermost callbacks between two collections when memory does not grow. */
// @ts-ignore: decorator
@inline const COLLECT_EVERY: u32 = 64; // a power of two

let depth: u32 = 0;
let outermostCallbacks: u32 = 0;
let pagesAtCollection: i32 = 0;

/** @internal Start of a callback export. */
// @ts-ignore: decorator
@inline export function enterCallback(): void {
  depth++;
}

/** @internal End of a callback export: the outermost one collects when it is time (above). */
export function leaveCallback(): void {
  if (--depth == 0 && ((++outermostCallbacks & (COLLECT_EVERY - 1)) == 0 || memory.size() != pagesAtCollection)) {
    pagesAtCollection = memory.size();
    __collect();
  }
}
