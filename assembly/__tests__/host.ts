// Controls of the mock host in as-pect.config.js, for the specs.

// @ts-ignore: decorator
@external("mock", "reset") export declare function reset(): void;
// @ts-ignore: decorator
@external("mock", "setHeader") export declare function setHeader(type: i32, key: string, value: string): void;
// @ts-ignore: decorator
@external("mock", "setHeaderRaw") export declare function setHeaderRaw(type: i32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): void;
// @ts-ignore: decorator
@external("mock", "openMap") export declare function openMap(type: i32): void;
// @ts-ignore: decorator
@external("mock", "mapText") export declare function mapText(type: i32): string;
// @ts-ignore: decorator
@external("mock", "setBuffer") export declare function setBuffer(type: i32, text: string): void;
// @ts-ignore: decorator
@external("mock", "bufferText") export declare function bufferText(type: i32): string;
// @ts-ignore: decorator
@external("mock", "lastBufferWrite") export declare function lastBufferWrite(): string;
// @ts-ignore: decorator
@external("mock", "setProperty") export declare function setPropertyRaw(pathPtr: usize, pathSize: usize, valuePtr: usize, valueSize: usize): void;
// @ts-ignore: decorator
@external("mock", "lastPropertyPath") export declare function lastPropertyPath(): string;
// @ts-ignore: decorator
@external("mock", "setLogLevel") export declare function setLogLevel(level: i32): void;
// @ts-ignore: decorator
@external("mock", "logLevelCalls") export declare function logLevelCalls(): i32;
// @ts-ignore: decorator
@external("mock", "logCount") export declare function logCount(): i32;
// @ts-ignore: decorator
@external("mock", "lastLog") export declare function lastLog(): string;
// @ts-ignore: decorator
@external("mock", "hostcalls") export declare function headerHostcalls(): i32;
// @ts-ignore: decorator
@external("mock", "effectiveText") export declare function effectiveText(): string;
// @ts-ignore: decorator
@external("mock", "callsText") export declare function callsText(): string;
// @ts-ignore: decorator
@external("mock", "localResponse") export declare function localResponse(): string;
// @ts-ignore: decorator
@external("mock", "setStatus") export declare function setStatus(code: u32, message: string): void;
// @ts-ignore: decorator
@external("mock", "setGcPressure") export declare function setGcPressure(on: i32): void;
// @ts-ignore: decorator
@external("mock", "collections") export declare function collections(): i32;
// @ts-ignore: decorator
@external("mock", "memoryBytes") export declare function memoryBytes(): i32;

/** Bytes from a list of values 0..255. */
export function bytesOf(values: Array<i32>): ArrayBuffer {
  const out = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(out) + i, <u8>values[i]);
  return out;
}

/** Space-separated lower-case hex of the bytes. */
export function hexOf(buffer: ArrayBuffer): string {
  const digits = "0123456789abcdef";
  let out = "";
  for (let i = 0; i < buffer.byteLength; i++) {
    const b = load<u8>(changetype<usize>(buffer) + i);
    if (i > 0) out += " ";
    out += digits.charAt(b >> 4) + digits.charAt(b & 15);
  }
  return out;
}
