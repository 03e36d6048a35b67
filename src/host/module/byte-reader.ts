import { WasmParseError } from "./wasm-parse-error";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Cursor over a byte range with bounds-checked primitive reads. Every read past `end` throws a
 * {@link WasmParseError} naming the item being read, so corrupt input never yields garbage.
 */
export class ByteReader {
  private position: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.position = start;
  }

  get offset(): number {
    return this.position;
  }

  get atEnd(): boolean {
    return this.position >= this.end;
  }

  fail(detail: string, offset = this.position): never {
    throw new WasmParseError(detail, offset);
  }

  u8(what: string): number {
    if (this.position >= this.end) this.fail(`unexpected end of data reading ${what}`);
    return this.bytes[this.position++]!;
  }

  /** Unsigned LEB128 of at most 32 bits (wasm `u32`). */
  u32(what: string): number {
    const start = this.position;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.u8(what);
      if (shift === 28 && (byte & 0x70) !== 0) this.fail(`${what} does not fit in 32 bits`, start);
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    return this.fail(`${what} is an over-long LEB128`, start);
  }

  /** Skips a signed LEB128 of at most `bits` bits (used for init expressions we do not evaluate). */
  skipSigned(bits: 32 | 64, what: string): void {
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) {
      if ((this.u8(what) & 0x80) === 0) return;
    }
    this.fail(`${what} is an over-long LEB128`);
  }

  bytesOf(length: number, what: string): Uint8Array {
    if (length > this.end - this.position) {
      this.fail(`${what} of ${length} bytes runs past the end (${this.end - this.position} left)`);
    }
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }

  skip(length: number, what: string): void {
    this.bytesOf(length, what);
  }

  /** A length-prefixed UTF-8 name, as used for import, export and custom-section names. */
  name(what: string): string {
    const start = this.position;
    const length = this.u32(`${what} length`);
    const raw = this.bytesOf(length, what);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail(`${what} is not valid UTF-8`, start);
    }
  }

  /** A child reader over the next `length` bytes; this reader moves past them. */
  sub(length: number, what: string): ByteReader {
    const start = this.position;
    this.bytesOf(length, what);
    return new ByteReader(this.bytes, start, start + length);
  }
}
