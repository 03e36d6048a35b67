import { stringByteLength, utf8Decode, utf8Walk } from "./utf8";

// Memory shared between the SDK and the host: the allocator the host calls, the out-slots
// hostcalls write their results to, and reusable staging blocks for outgoing arguments.

// Buffer reads (bodies, configurations) come back in place: before proxy_get_buffer_bytes the
// SDK asks the allocator (expectBuffer) to hand the host a managed ArrayBuffer instead of a raw
// block, so the host writes the bytes where the filter reads them and takeBuffer returns that
// object without a copy (a 4 KiB body: about 3k instructions per request less, bench shape
// f3_body_rewrite). The global `adopted` holds the object from the allocation to the take, so a
// collection in between cannot reclaim it. A module that never reads a buffer never sets
// `adoptNext`, and the optimizer drops the branch from its allocator.
let adoptNext = false;
let adopted: ArrayBuffer | null = null;

/**
 * The allocator the host calls from inside hostcalls (exported as both `malloc` and
 * `proxy_on_memory_allocate`). Returns a raw TLSF block that the garbage collector does not
 * track, so a collection between the host's write and the SDK's read cannot reclaim it.
 * The SDK copies the data out and frees the block (see takeBytes / takeString / dropResult).
 * After expectBuffer(), the first allocation is a managed ArrayBuffer held by a global instead
 * (see takeBuffer). Makes no hostcall.
 */
export function allocate(size: usize): usize {
  if (adoptNext && adopted === null) {
    const buffer = changetype<ArrayBuffer>(__new(size, idof<ArrayBuffer>()));
    adopted = buffer;
    return changetype<usize>(buffer);
  }
  return heap.alloc(size);
}

/** Makes the host's next allocation a managed ArrayBuffer; call right before a hostcall that
 * returns one block, and take the result with takeBuffer(). */
export function expectBuffer(): void {
  adoptNext = true;
  adopted = null;
}

/**
 * Takes the block the last hostcall returned (after expectBuffer()): the ArrayBuffer the host
 * wrote into, without a copy, or as takeBytes() for any other block (none after an error: Envoy
 * writes no out-slot then). cpp-host allocates exactly the size it writes (proxy-wasm-cpp-host
 * include/proxy-wasm/wasm.h, copyToPointerSize), so the object's length is the data's.
 */
export function takeBuffer(): ArrayBuffer {
  adoptNext = false;
  const buffer = adopted;
  adopted = null;
  if (buffer !== null && <usize>load<u32>(OUT_DATA) == changetype<usize>(buffer)) {
    store<u64>(OUT, 0); // the collector owns it: nothing to free
    return buffer;
  }
  return takeBytes();
}

// Out-parameters written by the host: [0] data pointer, [4] data size, [8] extra u32
// (CAS, token, flags, metric id, log level), [16] u64 (time, metric value).
const OUT: usize = memory.data(24, 8);
export const OUT_DATA: usize = OUT;
export const OUT_SIZE: usize = OUT + 4;
export const OUT_U32: usize = OUT + 8;
export const OUT_U64: usize = OUT + 16;

/** Clears the out-slots before a hostcall: Envoy leaves them untouched on errors. */
export function clearOut(): void {
  memory.fill(OUT, 0, 24);
}

/** Size in bytes of the block the last hostcall returned (0 = empty). */
export function outSize(): usize {
  return load<u32>(OUT_SIZE);
}

/** Copies the returned block into an ArrayBuffer and frees it. Empty block -> empty buffer. */
export function takeBytes(): ArrayBuffer {
  const ptr = <usize>load<u32>(OUT_DATA);
  const size = <usize>load<u32>(OUT_SIZE);
  // An address, not an ArrayBuffer, until the return: no shadow-stack slot for it.
  const result = __new(size, idof<ArrayBuffer>());
  if (ptr != 0) {
    memory.copy(result, ptr, size);
    heap.free(ptr);
  }
  store<u64>(OUT, 0);
  return changetype<ArrayBuffer>(result);
}

/** Decodes the returned block as UTF-8 (invalid sequences become U+FFFD) and frees it. */
export function takeString(): string {
  const ptr = <usize>load<u32>(OUT_DATA);
  if (ptr == 0) return "";
  const result = utf8Decode(ptr, load<u32>(OUT_SIZE));
  heap.free(ptr);
  store<u64>(OUT, 0);
  return result;
}

/** Frees the returned block without reading it, e.g. after a non-OK status. */
export function dropResult(): void {
  const ptr = <usize>load<u32>(OUT_DATA);
  if (ptr != 0) heap.free(ptr);
  store<u64>(OUT, 0);
}

// Staging blocks for outgoing strings: reusable raw blocks that grow to the largest argument
// ever sent through them, so passing a string to the host allocates nothing. A block is sized
// for the worst case (3 UTF-8 bytes per UTF-16 unit), so a string is encoded in one walk instead
// of a measuring walk and a writing walk. Each of the three slots (key, value, extra) has one
// block for strings on the heap and LITERAL_WAYS blocks for string literals, picked by the
// literal's address: a literal lives below __heap_base and never changes, so its block still
// holds its UTF-8 the next time it is staged, and it is not encoded again (bench shape
// f2_headers stages six literals per request: about 1.3k instructions less). Two literals that
// pick the same block take turns in it. Each block: [address, capacity, length, literal].
// @ts-ignore: decorator
@inline const LITERAL_WAYS: usize = 32;
const STAGES: usize = memory.data(<i32>((<usize>3 + <usize>3 * LITERAL_WAYS) << 4), 16);
const STAGE_LEN: usize = memory.data(12, 4);

/** Encodes `text` as UTF-8 into staging slot `slot` (0..2) and returns its address. */
export function stage(slot: i32, text: string): usize {
  return stageText(slot, changetype<usize>(text));
}

/** stage() for the string at address `text`: SDK code passes strings as addresses, which
 * costs no shadow-stack code. The bytes are the host's to read, nobody's to change. */
export function stageText(slot: i32, text: usize): usize {
  let index = <usize>slot;
  // Literals are objects at 16-byte aligned addresses.
  if (text < __heap_base) index = 3 + (index * LITERAL_WAYS) + ((text >> 4) & (LITERAL_WAYS - 1));
  const block = STAGES + (index << 4);
  let ptr = <usize>load<u32>(block);
  let length = load<u32>(block, 8);
  if (<usize>load<u32>(block, 12) != text) {
    const utf16Bytes = stringByteLength(text);
    const worst = utf16Bytes + (utf16Bytes >> 1);
    if (worst > <usize>load<u32>(block, 4) || ptr == 0) {
      if (ptr != 0) heap.free(ptr);
      ptr = heap.alloc(worst);
      store<u32>(block, <u32>ptr);
      store<u32>(block, <u32>worst, 4);
    }
    length = <u32>(utf8Walk(text, ptr, true) - ptr);
    store<u32>(block, length, 8);
    // Only a literal is found again: a heap address may hold another string next time.
    store<u32>(block, <u32>(text < __heap_base ? text : 0), 12);
  }
  store<u32>(STAGE_LEN + (<usize>slot << 2), length);
  return ptr;
}

/** Byte length of the string last staged in `slot`. */
export function stagedLength(slot: i32): usize {
  return load<u32>(STAGE_LEN + (<usize>slot << 2));
}

/** Byte length of an ArrayBuffer, 0 for null. */
export function bufferLength(buffer: ArrayBuffer | null): usize {
  return buffer === null ? 0 : <usize>buffer.byteLength;
}
