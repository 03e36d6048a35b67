import type { LinearMemorySource } from "./wasi-environment";

/**
 * Bounds-checked little-endian access to linear memory for one WASI call. Every method returns
 * false / undefined instead of throwing when the range is outside memory, so callers can map
 * that to `EFAULT` exactly where cpp-host does.
 */
export class GuestMemory {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(source: LinearMemorySource) {
    const buffer = source instanceof ArrayBuffer ? source : source.buffer;
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  private fits(pointer: number, size: number): boolean {
    return pointer + size <= this.bytes.length;
  }

  read(pointer: number, size: number): Uint8Array | undefined {
    return this.fits(pointer, size) ? this.bytes.subarray(pointer, pointer + size) : undefined;
  }

  readU32(pointer: number): number | undefined {
    return this.fits(pointer, 4) ? this.view.getUint32(pointer, true) : undefined;
  }

  write(pointer: number, data: Uint8Array): boolean {
    if (!this.fits(pointer, data.length)) return false;
    this.bytes.set(data, pointer);
    return true;
  }

  writeU16(pointer: number, value: number): boolean {
    if (!this.fits(pointer, 2)) return false;
    this.view.setUint16(pointer, value, true);
    return true;
  }

  writeU32(pointer: number, value: number): boolean {
    if (!this.fits(pointer, 4)) return false;
    this.view.setUint32(pointer, value, true);
    return true;
  }

  writeU64(pointer: number, value: bigint): boolean {
    if (!this.fits(pointer, 8)) return false;
    this.view.setBigUint64(pointer, BigInt.asUintN(64, value), true);
    return true;
  }
}

/** Wasm passes u32 pointers and sizes as signed i32 numbers; this recovers the unsigned value. */
export function u32(value: number): number {
  return value >>> 0;
}
