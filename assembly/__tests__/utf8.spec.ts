import { asciiEqualsUnits, jsonSpecialBytes, utf8Bytes, utf8Decode, utf8Length, widenAscii } from "../runtime/utf8";
import { appendText, MESSAGE_START } from "../runtime/abort";
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

describe("utf8Decode and the module's memory", () => {
  it("writes nothing while measuring: text in the static message block decodes as written", () => {
    // The measuring walk used to store every unit after the first at addresses 2, 4, ...: over
    // the module's static data, where the SDK builds its messages.
    const text = "requiredKeys[0]: expected a string, got a number (1:18)";
    const end = appendText(MESSAGE_START, changetype<usize>(text));
    expect(utf8Decode(MESSAGE_START, end - MESSAGE_START)).toBe(text);
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

// Staging (runtime/memory.ts): a literal's UTF-8 is kept and found again by its address; a
// string on the heap is encoded every time, as its address may hold another string next time.
function stagedText(slot: i32, text: string): string {
  const at = stage(slot, text);
  return utf8Decode(at, stagedLength(slot));
}

// Forty literals for 32 blocks per slot: at least two of them share a block.
const LITERALS: StaticArray<string> = [
  "l00", "l01", "l02", "l03", "l04", "l05", "l06", "l07", "l08", "l09", "l10", "l11", "l12", "l13",
  "l14", "l15", "l16", "l17", "l18", "l19", "l20", "l21", "l22", "l23", "l24", "l25", "l26", "l27",
  "l28", "l29", "l30", "l31", "l32", "l33", "l34", "l35", "l36", "l37", "l38", "l39",
];

describe("staging", () => {
  it("stages a literal again from its kept bytes, and keeps the slots apart", () => {
    const first = stage(0, "x-literal-\u00e9");
    const again = stage(0, "x-literal-\u00e9");
    expect(again).toBe(first);
    expect(stagedLength(0)).toBe(12);
    expect(stagedText(1, "value")).toBe("value");
    expect(stagedText(0, "x-literal-\u00e9")).toBe("x-literal-\u00e9");
    expect(stagedText(1, "value")).toBe("value");
  });

  it("gives two literals that share a block their own bytes in turn", () => {
    let a = -1;
    let b = -1;
    for (let i = 0; i < LITERALS.length && b < 0; i++) {
      for (let j = 0; j < i; j++) {
        if (((changetype<usize>(LITERALS[i]) >> 4) & 31) == ((changetype<usize>(LITERALS[j]) >> 4) & 31)) {
          a = j;
          b = i;
          break;
        }
      }
    }
    expect(b).toBeGreaterThanOrEqual(0);
    expect(stagedText(2, LITERALS[a])).toBe(LITERALS[a]);
    expect(stagedText(2, LITERALS[b])).toBe(LITERALS[b]);
    expect(stagedText(2, LITERALS[a])).toBe(LITERALS[a]);
  });

  it("encodes a heap string every time, even at the address of the last one", () => {
    const text = "abc".repeat(2);
    expect(stagedText(0, text)).toBe("abcabc");
    // Another string at the same address: the same object's units changed in place.
    store<u16>(changetype<usize>(text), 0x78);
    expect(stagedText(0, text)).toBe("xbcabc");
  });
});

describe("eight bytes at a time", () => {
  it("finds the first byte a JSON string reader stops at, below any others", () => {
    // Each special byte at each place of a word of 'a's, alone and with every special above it
    // (whose borrows may raise bits above the first, never below).
    const specials: u8[] = [0x00, 0x1f, 0x22, 0x5c, 0x80, 0xff];
    let wrong = "";
    for (let s = 0; s < specials.length; s++) {
      for (let at = 0; at < 8; at++) {
        let word: u64 = 0x6161616161616161;
        word = (word & ~(<u64>0xff << (at * 8))) | (<u64>specials[s] << (at * 8));
        let crowded = word;
        for (let above = at + 1; above < 8; above++) crowded = (crowded & ~(<u64>0xff << (above * 8))) | (<u64>specials[(s + above) % specials.length] << (above * 8));
        if (ctz(jsonSpecialBytes(word)) >> 3 != <u64>at || ctz(jsonSpecialBytes(crowded)) >> 3 != <u64>at) wrong += specials[s].toString() + "@" + at.toString() + " ";
      }
    }
    expect(wrong).toBe("");
    // Plain text, the bytes next to the specials included: no bit.
    expect(jsonSpecialBytes(0x7f5d5b5a23212061)).toBe(0);
  });

  it("widens and compares ASCII bytes as UTF-16 units, whatever the length", () => {
    const text = "abcdefghijklmnopq-0123456789";
    // Held as a reference: the specs' incremental collector may run in __new below.
    const buffer = utf8Bytes(text);
    const bytes = changetype<usize>(buffer);
    let wrong = "";
    for (let count: usize = 0; count <= 20; count++) {
      const out = changetype<string>(__new(count << 1, idof<string>()));
      widenAscii(bytes + 3, count, changetype<usize>(out));
      const expected = text.substring(3, 3 + <i32>count);
      if (out != expected) wrong += "widen" + count.toString() + " ";
      if (!asciiEqualsUnits(bytes + 3, count, changetype<usize>(expected))) wrong += "equal" + count.toString() + " ";
      // A difference at the last place is found too.
      if (count > 0 && asciiEqualsUnits(bytes + 3, count, changetype<usize>(text.substring(3, 2 + <i32>count) + "!"))) wrong += "differ" + count.toString() + " ";
    }
    expect(wrong).toBe("");
    expect(buffer.byteLength).toBe(text.length);
  });
});
