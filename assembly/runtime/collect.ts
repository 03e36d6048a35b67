// When garbage is collected. The SDK builds with AssemblyScript's minimal runtime (TLSF and a
// stop-the-world mark and sweep), which never collects by itself and finds live objects from the
// globals only, so a collection is safe only when no AssemblyScript frame holds a reference in a
// local: between callbacks. Every callback export counts itself in and out; the outermost one
// collects on its way out. A callback the host runs inside another (Envoy does not, but nothing
// stops a host from doing so through a hostcall) only counts, so the outer callback's locals
// stay valid. The incremental runtime's shadow stack (which makes a collection safe anywhere)
// cost about 2.5 KB of code in add_header (docs/sdk-internals.md, "Size techniques").
//
// A trap leaves the count raised, so the module never collects again; Envoy and cpp-host call
// nothing in a VM after a trap (the VM is failed), so nothing is lost.

let depth: u32 = 0;

/** @internal Start of a callback export. */
// @ts-ignore: decorator
@inline export function enterCallback(): void {
  depth++;
}

/** @internal End of a callback export: the outermost one collects the garbage. */
export function leaveCallback(): void {
  if (--depth == 0) __collect();
}
