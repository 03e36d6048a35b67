import { utf8Bytes, utf8Decode, utf8Length } from "../runtime/utf8";
import { stage, stagedLength } from "../runtime/memory";
import { isValidUtf8 } from "../api/utf8";
import { bytesOf, hexOf } from "./bytes";

function decode(bytes: ArrayBuffer): string {
  return utf8Decode(changetype<usize>(bytes), bytes.byteLength);
}

describe("utf8 codec", () => {
  it("encodes 1- to 4-byte sequences like the standard", () => {
    const text = "a\u00e9\u2713\u{1F600}";
    expect(hexOf(utf8Bytes(text))).toBe("61 c3 a9 e2 9c 93 f0 9f 98 80");
    expect(utf8Length(text)).toBe(10);
    expect(hexOf(utf8Bytes(text))).toBe(hexOf(String.UTF8.encode(text)));
  });

  it("encodes a lone surrogate as WTF-8 and decodes it back", () => {
    const lone = String.fromCharCode(0xd800) + "x";
    expect(hexOf(utf8Bytes(lone))).toBe("ed a0 80 78");
    expect(decode(utf8Bytes(lone))).toBe(lone);
  });

  it("round-trips text with every sequence length, NULs included", () => {
    const text = "h\u00e9llo \u2713 \u{10FFFF}\0end";
    expect(decode(utf8Bytes(text))).toBe(text);
    expect(decode(new ArrayBuffer(0))).toBe("");
  });

  it("decodes invalid, overlong and truncated sequences to U+FFFD", () => {
    expect(decode(bytesOf([0xff, 0x41]))).toBe("\uFFFDA");
    expect(decode(bytesOf([0xc3]))).toBe("\uFFFD");
    expect(decode(bytesOf([0xe2, 0x9c]))).toBe("\uFFFD");
    expect(decode(bytesOf([0xc0, 0xaf]))).toBe("\uFFFD\uFFFD");
    expect(decode(bytesOf([0xf4, 0x90, 0x80, 0x80]))).toBe("\uFFFD");
    expect(decode(bytesOf([0x80, 0x41]))).toBe("\uFFFDA");
    expect(decode(bytesOf([0xe2, 0x41]))).toBe("\uFFFDA");
  });
});

describe("isValidUtf8", () => {
  it("accepts every sequence length, the largest code point, U+FFFD itself and empty input", () => {
    expect(isValidUtf8(utf8Bytes("a\u00e9\u2713\u{1F600}\u{10FFFF}\uFFFD"))).toBe(true);
    expect(isValidUtf8(new ArrayBuffer(0))).toBe(true);
  });

  it("refuses stray, overlong, truncated, surrogate and out-of-range sequences", () => {
    expect(isValidUtf8(bytesOf([0x41, 0x80]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xff]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xc0, 0xaf]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xe0, 0x80, 0xaf]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xf0, 0x80, 0x80, 0xaf]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xe2, 0x9c]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xe2, 0x41, 0x93]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xed, 0xa0, 0x80]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xed, 0xbf, 0xbf]))).toBe(false);
    expect(isValidUtf8(bytesOf([0xf4, 0x90, 0x80, 0x80]))).toBe(false);
    // The last code points before the surrogates and before the end are fine.
    expect(isValidUtf8(bytesOf([0xed, 0x9f, 0xbf]))).toBe(true);
    expect(isValidUtf8(bytesOf([0xf4, 0x8f, 0xbf, 0xbf]))).toBe(true);
  });
});

/** The bytes `stage` leaves in `slot` for `text`, as hex. */
function staged(slot: i32, text: string): string {
  const ptr = stage(slot, text);
  const length = stagedLength(slot);
  const copy = new ArrayBuffer(<i32>length);
  memory.copy(changetype<usize>(copy), ptr, length);
  return hexOf(copy);
}

describe("staging outgoing strings", () => {
  it("stages every sequence length exactly, in one slot growing and shrinking", () => {
    expect(staged(1, "ab")).toBe("61 62");
    expect(staged(1, "\u{1F600}\u2713")).toBe("f0 9f 98 80 e2 9c 93");
    expect(staged(1, String.fromCharCode(0xdc00))).toBe("ed b0 80");
    expect(staged(1, "")).toBe("");
    // Three-byte characters fill the worst case the block is sized for.
    expect(staged(1, "\u2713\u2713\u2713\u2713")).toBe("e2 9c 93 e2 9c 93 e2 9c 93 e2 9c 93");
    expect(staged(1, "\u00e9")).toBe("c3 a9");
  });

  it("keeps the slots apart", () => {
    const key = stage(0, "location");
    const value = stage(1, "envoy-wasm");
    expect(key).not.toBe(value);
    expect(String.UTF8.decodeUnsafe(key, stagedLength(0))).toBe("location");
    expect(String.UTF8.decodeUnsafe(value, stagedLength(1))).toBe("envoy-wasm");
  });
});
