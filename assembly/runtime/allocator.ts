import { fail, Word } from "./abort";

// The module's memory allocator, in place of AssemblyScript's TLSF: the SDK's build transform
// (transform/proxy-wasm-exports.mjs, "routeRuntimeAllocator") makes the runtime's `__alloc`,
// `__realloc` and `__free` (what `__new`, the collector's sweep and `heap.*` call) call
// blockAlloc, blockRealloc and blockFree, and TLSF's code then goes from the module.
//
// Why: a filter's objects are small and die young (a stream context, a header snapshot, a
// string per header it reads), and the collector frees them in batches, so TLSF spent its time
// merging the freed blocks into large free ones and splitting them again for the next request:
// about 450 instructions per allocation and free in bench shape f2_headers, and 1.2 KB of code.
// Here a freed block goes onto a list of blocks of exactly its size, and the next allocation of
// that size takes it back in a few loads and stores.
//
// Layout. A block is a 4-byte header holding its data size, then the data, 16-byte aligned;
// sizes are 16k - 4 bytes (k "units" of 16 bytes with the header), as in TLSF, whose header
// format the collectors read (`mmInfo & ~3`: the two low bits are always 0 here). Blocks are
// carved in address order from `top`, the start of the never-used rest of memory, which grows
// by doubling memory (as TLSF grows it) when a block does not fit.
//
// Reuse. A free block of up to SMALL_UNITS units (2 KiB) waits on the list for its size, not
// merged with its neighbours: memory freed as small blocks serves small blocks of that size
// (bounded by the most the filter ever had live at once), which is what a filter's steady
// per-request work asks for again. Larger blocks wait on one list in address order, merged
// with free neighbours on it, taken first fit with the rest left in place. A freed block that
// ends at `top` gives its space back to `top`.
//
// Each function is legal anywhere, including inside the collector, and makes no hostcall.

// @ts-ignore: decorator
@inline const SMALL_UNITS: usize = 128;
// @ts-ignore: decorator
@inline const MAX_SIZE: usize = 1 << 30;
// List heads by unit count (1..SMALL_UNITS), then the list of larger blocks; static zeros
// cost no module bytes. A free block's first word links to the next.
const HEADS: usize = memory.data(<i32>((SMALL_UNITS + 2) << 2), 4);
// @ts-ignore: decorator
@inline const LARGE: usize = HEADS + ((SMALL_UNITS + 1) << 2);
// The header address of the next carved block (0 until the first allocation).
let top: usize = 0;

// @ts-ignore: decorator
@inline function unitsOf(block: usize): usize {
  return (<usize>load<u32>(block - 4) + 4) >> 4;
}

// A new block of `units` at `top`, growing memory when it does not fit.
function carve(units: usize): usize {
  // The first header sits 4 bytes before a 16-byte boundary past the static data.
  if (top == 0) top = ((__heap_base + 19) & ~15) - 4;
  // In 64 bits: at 4 GiB of memory the page count times 64 KiB is 0 in 32.
  const end = <u64>top + (<u64>units << 4);
  const pages = <u64>memory.size();
  if (end > pages << 16) {
    const needed = <i32>(((end + 0xffff) >> 16) - pages);
    // Double the memory, as TLSF does; at least what the block needs.
    if (memory.grow(max(<i32>pages, needed)) < 0 && memory.grow(needed) < 0) unreachable();
  }
  store<u32>(top, <u32>((units << 4) - 4));
  const block = top + 4;
  top = <usize>end;
  return block;
}

/** A block of at least `size` bytes, 16-byte aligned. Stops the module past 1 GiB (Envoy's
 * limit for a whole VM) and when memory cannot grow, as TLSF does. */
export function blockAlloc(size: usize): usize {
  if (size > MAX_SIZE) fail(Word.AllocationTooLarge);
  const units = (size + 19) >> 4;
  if (units <= SMALL_UNITS) {
    const head = HEADS + (units << 2);
    const block = <usize>load<u32>(head);
    if (block == 0) return carve(units);
    store<u32>(head, load<u32>(block));
    return block;
  }
  // First fit in address order; the rest of a larger block stays in its place on the list.
  let link = LARGE;
  for (let block = <usize>load<u32>(link); block != 0; block = <usize>load<u32>(block)) {
    const have = unitsOf(block);
    if (have >= units) {
      let next = load<u32>(block);
      if (have > units) {
        store<u32>(block - 4, <u32>((units << 4) - 4));
        const rest = block + (units << 4);
        store<u32>(rest - 4, <u32>(((have - units) << 4) - 4));
        store<u32>(rest, next);
        next = <u32>rest;
      }
      store<u32>(link, next);
      return block;
    }
    link = block;
  }
  return carve(units);
}

/** Frees a block from blockAlloc; addresses below the heap (static data) are ignored, as TLSF
 * ignores them. */
export function blockFree(ptr: usize): void {
  if (ptr < __heap_base) return;
  let units = unitsOf(ptr);
  if (units <= SMALL_UNITS) {
    if (ptr - 4 + (units << 4) == top) {
      top = ptr - 4;
      return;
    }
    const head = HEADS + (units << 2);
    store<u32>(ptr, load<u32>(head));
    store<u32>(head, <u32>ptr);
    return;
  }
  // A large block goes into the address-ordered list, merged with a free neighbour on either
  // side: large buffers of changing sizes (bodies) then do not break memory into pieces.
  let beforeLink: usize = 0;
  let before: usize = 0;
  let link = LARGE;
  let after = <usize>load<u32>(link);
  while (after != 0 && after < ptr) {
    beforeLink = link;
    before = after;
    link = after;
    after = <usize>load<u32>(after);
  }
  if (after == ptr + (units << 4)) {
    units += unitsOf(after);
    after = <usize>load<u32>(after);
  }
  if (before != 0 && before + (unitsOf(before) << 4) == ptr) {
    units += unitsOf(before);
    ptr = before;
    link = beforeLink;
  }
  if (ptr - 4 + (units << 4) == top) {
    store<u32>(link, <u32>after);
    top = ptr - 4;
    return;
  }
  store<u32>(ptr - 4, <u32>((units << 4) - 4));
  store<u32>(ptr, <u32>after);
  store<u32>(link, <u32>ptr);
}

/** The block at `ptr` resized to at least `size` bytes, moved (its data copied, the old block
 * freed) when it does not fit where it is. */
export function blockRealloc(ptr: usize, size: usize): usize {
  const units = unitsOf(ptr);
  if (size + 4 <= units << 4 && ptr >= __heap_base) return ptr;
  const moved = blockAlloc(size);
  memory.copy(moved, ptr, min(size, (units << 4) - 4));
  blockFree(ptr);
  return moved;
}
