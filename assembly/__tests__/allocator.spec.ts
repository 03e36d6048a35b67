// The SDK's allocator (runtime/allocator.ts), which the build transform makes the runtime's: these
// specs call it through `heap.*`, as the runtime does. Addresses are collected first and checked
// after: an expectation allocates managed objects, and the incremental runtime of the specs may
// free objects onto the same lists while it does.
import { blockAlloc } from "../runtime/allocator";
import { duringTick, specHost } from "./spec-filter";

export * from "../exports";

// The data size a block's header records (the two low bits are the collectors' and always 0).
function sizeOf(block: usize): u32 {
  return load<u32>(block - 4);
}

describe("the allocator", () => {
  it("is the runtime's: a block heap.free gives back is the next one blockAlloc hands out", () => {
    // Two allocators side by side would hand out different memory (and overwrite each other).
    const block = heap.alloc(1200);
    const guard = heap.alloc(1200);
    heap.free(block);
    const again = blockAlloc(1200);
    heap.free(again);
    heap.free(guard);
    expect(again).toBe(block);
  });

  it("gives 16-byte aligned blocks of at least the size asked, sizes 16k - 4", () => {
    let aligned = true;
    let fits = true;
    for (let size: usize = 0; size < 5000; size += 7) {
      const block = heap.alloc(size);
      aligned = aligned && (block & 15) == 0;
      const have = <usize>sizeOf(block);
      fits = fits && have >= size && ((have + 4) & 15) == 0 && have < size + 20;
      heap.free(block);
    }
    expect(aligned).toBe(true);
    expect(fits).toBe(true);
  });

  it("hands a freed small block out again for the same size, not for another", () => {
    // Sizes nothing else in this module uses, so their lists start empty.
    const first = heap.alloc(1400);
    const guard = heap.alloc(1400); // keeps `first` away from the top
    heap.free(first);
    const other = heap.alloc(1700);
    const again = heap.alloc(1400);
    heap.free(again);
    heap.free(other);
    heap.free(guard);
    expect(other).not.toBe(first);
    expect(again).toBe(first);
  });

  it("merges free neighbours among large blocks and serves a larger block from them", () => {
    const one = heap.alloc(4096);
    const two = heap.alloc(4096);
    const guard = heap.alloc(16);
    heap.free(two);
    heap.free(one);
    const both = heap.alloc(8000);
    heap.free(both);
    heap.free(guard);
    expect(both).toBe(one);
  });

  it("splits a large free block first fit and leaves the rest in its place", () => {
    const large = heap.alloc(8192);
    const guard = heap.alloc(16);
    heap.free(large);
    const first = heap.alloc(3000);
    const second = heap.alloc(3000);
    heap.free(first);
    heap.free(second);
    heap.free(guard);
    expect(first).toBe(large);
    // 3,000 bytes take a 3,004-byte block: 188 units of 16 bytes with the header.
    expect(second).toBe(large + 188 * 16);
  });

  it("gives a block freed at the top back to the top", () => {
    const small = heap.alloc(1500);
    heap.free(small);
    const large = heap.alloc(50000);
    heap.free(large);
    expect(large).toBe(small);
  });

  it("keeps a block's bytes when it grows and its place when it shrinks", () => {
    const block = heap.alloc(20);
    for (let i: usize = 0; i < 20; i++) store<u8>(block + i, <u8>(i + 1));
    const guard = heap.alloc(16);
    const grown = heap.realloc(block, 3000);
    let kept = true;
    for (let i: usize = 0; i < 20; i++) kept = kept && load<u8>(grown + i) == <u8>(i + 1);
    const shrunk = heap.realloc(grown, 10);
    heap.free(shrunk);
    heap.free(guard);
    expect(grown).not.toBe(block);
    expect(kept).toBe(true);
    expect(shrunk).toBe(grown);
  });

  it("ignores a free of static data", () => {
    const literal = changetype<usize>("static text");
    heap.free(literal);
    const block = heap.alloc(16);
    heap.free(block);
    expect(block).not.toBe(literal);
    expect("static text").toBe("static text");
  });

  it("stops the module with the SDK's message for a block past 1 GiB", () => {
    specHost().logs.clear();
    duringTick(() => {
      expect(() => { heap.alloc((1 << 30) + 1); }).toThrow();
    });
    expect(specHost().logs.messages("critical").join("|")).toBe("abort: proxy-wasm-as: allocation too large");
  });
});
