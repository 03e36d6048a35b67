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
// collects only once the managed objects made since the last collection add up to as many bytes
// as survived it (counted up to MAX_GARBAGE) plus MIN_GARBAGE: the policy of AssemblyScript's own incremental
// collector, which keeps memory within about twice the live data while a collection's cost,
// proportional to the live data, is spread over as many bytes of new objects.
//
// A trap leaves the count raised, so the module never collects again; Envoy and cpp-host call
// nothing in a VM after a trap (the VM is failed), so nothing is lost.

/** Bytes of new objects that always wait for the next collection, on top of the live data's
 * share (one page of linear memory): a small filter's requests then share a collection by the
 * hundreds. */
// @ts-ignore: decorator
@inline const MIN_GARBAGE: usize = 64 * 1024;

/** The most the live data's share counts for: a filter holding
 * hundreds of MB would otherwise double its memory before collecting, past Envoy's 1 GiB limit
 * for a VM (proxy-wasm-cpp-host include/proxy-wasm/limits.h). */
// @ts-ignore: decorator
@inline const MAX_GARBAGE: usize = 16 * 1024 * 1024;

let depth: u32 = 0;
let collectAt: usize = 0;

/**
 * @internal Bytes of managed objects the runtime holds, garbage included. The runtime keeps
 * this count in a global that no library code can name, so the SDK's build transform
 * (transform/proxy-wasm-exports.mjs) replaces this body with a read of that global in builds on
 * the minimal runtime. Elsewhere (no transform, or the incremental runtime of the as-pect specs)
 * the count reads as "always over", which collects after every outermost callback: slower,
 * never wrong.
 */
// @ts-ignore: decorator
@noinline export function managedBytes(): usize {
  return usize.MAX_VALUE;
}

/** @internal Start of a callback export. */
// @ts-ignore: decorator
@inline export function enterCallback(): void {
  depth++;
}

/** @internal End of a callback export: the outermost one collects when it is time (above). */
export function leaveCallback(): void {
  if (--depth == 0 && managedBytes() >= collectAt) {
    __collect();
    const live = managedBytes();
    collectAt = live + min(live, MAX_GARBAGE) + MIN_GARBAGE;
  }
}
