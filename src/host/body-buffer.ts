/**
 * A body or TCP data buffer with Envoy's write rules for `proxy_set_buffer_bytes` (reference §5.4).
 */
import { EMPTY_BYTES, concatBytes } from "./bytes";
import { Result, type ResultCode } from "./constants";

export class BodyBuffer {
  constructor(
    public bytes: Uint8Array = EMPTY_BYTES,
    /** False for read-only buffers (configurations, callout bodies, call data). */
    readonly writable = true,
  ) {}

  get length(): number {
    return this.bytes.length;
  }

  append(data: Uint8Array): void {
    this.bytes = concatBytes(this.bytes, data);
  }

  /**
   * Bytes `[start, start + length)` clamped to the buffer; a start past the end gives no bytes.
   * Never fails: Envoy clamps instead of rejecting out-of-range reads.
   */
  read(start: number, length: number): Uint8Array {
    if (start >= this.bytes.length) return EMPTY_BYTES;
    const end = Math.min(this.bytes.length, start + length);
    return this.bytes.subarray(start, end);
  }

  /**
   * Envoy's `copyFrom`: start 0 drops the first `length` bytes then prepends `data`; a start at or
   * past the end appends; anything in between is `BadArgument`. Read-only buffers: `BadArgument`.
   */
  write(start: number, length: number, data: Uint8Array): ResultCode {
    if (!this.writable) return Result.BadArgument;
    const size = this.bytes.length;
    if (start === 0) {
      const kept = length >= size ? EMPTY_BYTES : this.bytes.subarray(length);
      this.bytes = concatBytes(data.slice(), kept.slice());
      return Result.Ok;
    }
    if (start >= size) {
      this.bytes = concatBytes(this.bytes, data.slice());
      return Result.Ok;
    }
    return Result.BadArgument;
  }

  clear(): void {
    this.bytes = EMPTY_BYTES;
  }
}
