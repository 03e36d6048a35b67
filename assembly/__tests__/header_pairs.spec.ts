import { HeaderPairs } from "../api/header_pairs";
import { Header, serializePairs } from "../runtime/pairs";
import { bytesOf, hexOf } from "./bytes";

function pairsOf(headers: Array<Header>): HeaderPairs {
  const wire = serializePairs(headers);
  return HeaderPairs.parse(changetype<usize>(wire), wire.byteLength);
}

describe("HeaderPairs", () => {
  it("reads names and values by index in order, the last value included", () => {
    const pairs = pairsOf([Header.of(":path", "/a?b=1"), Header.of("user-agent", "curl/8"), Header.of("x-last", "end")]);
    expect(pairs.count).toBe(3);
    expect(pairs.name(0)).toBe(":path");
    expect(pairs.value(0)).toBe("/a?b=1");
    expect(pairs.name(1)).toBe("user-agent");
    expect(pairs.value(1)).toBe("curl/8");
    expect(pairs.name(2)).toBe("x-last");
    expect(pairs.value(2)).toBe("end");
    expect(pairs.valueLength(2)).toBe(3);
  });

  it("compares names and values on bytes: exact length and content only", () => {
    const pairs = pairsOf([Header.of("user-agent", "curl"), Header.of("user-agenT", "x")]);
    expect(pairs.nameIs(0, "user-agent")).toBe(true);
    expect(pairs.nameIs(1, "user-agent")).toBe(false);
    expect(pairs.nameIs(0, "user-agen")).toBe(false);
    expect(pairs.nameIs(0, "user-agent2")).toBe(false);
    expect(pairs.nameIs(0, "")).toBe(false);
    expect(pairs.valueIs(0, "curl")).toBe(true);
    expect(pairs.valueIs(0, "cur")).toBe(false);
  });

  it("finds the first entry of a name, from an index on, and its value", () => {
    const pairs = pairsOf([Header.of("a", "1"), Header.of("b", "2"), Header.of("a", "3")]);
    expect(pairs.indexOf("a")).toBe(0);
    expect(pairs.indexOf("a", 1)).toBe(2);
    expect(pairs.indexOf("a", 3)).toBe(-1);
    expect(pairs.indexOf("c")).toBe(-1);
    expect(pairs.get("b")!).toBe("2");
    expect(pairs.get("c")).toBeNull();
  });

  it("compares and decodes non-ASCII text as UTF-8, and invalid bytes as U+FFFD", () => {
    const pairs = pairsOf([Header.of("x-é", "café ✓"), new Header(bytesOf([0x78]), bytesOf([0xff, 0x41, 0x00, 0x80]))]);
    expect(pairs.nameIs(0, "x-é")).toBe(true);
    expect(pairs.nameIs(0, "x-e")).toBe(false);
    expect(pairs.valueIs(0, "café ✓")).toBe(true);
    expect(pairs.value(0)).toBe("café ✓");
    expect(pairs.value(1)).toBe("\uFFFDA\0\uFFFD");
    expect(hexOf(pairs.valueBytes(1))).toBe("ff 41 00 80");
    expect(hexOf(pairs.nameBytes(0))).toBe("78 2d c3 a9");
  });

  it("reads empty names and values as empty", () => {
    const pairs = pairsOf([Header.of("", ""), Header.of("x-empty", "")]);
    expect(pairs.count).toBe(2);
    expect(pairs.nameIs(0, "")).toBe(true);
    expect(pairs.value(0)).toBe("");
    expect(pairs.value(1)).toBe("");
    expect(pairs.valueLength(1)).toBe(0);
    expect(pairs.get("x-empty")!).toBe("");
  });

  it("reads an index outside the entries as empty, never a trap", () => {
    const pairs = pairsOf([Header.of("a", "1")]);
    expect(pairs.name(1)).toBe("");
    expect(pairs.value(-1)).toBe("");
    expect(pairs.nameIs(5, "a")).toBe(false);
    expect(pairs.valueBytes(1).byteLength).toBe(0);
    expect(pairs.valueLength(-1)).toBe(0);
  });

  it("is a snapshot: the bytes it was parsed from can change afterwards", () => {
    const wire = serializePairs([Header.of("a", "1")]);
    const pairs = HeaderPairs.parse(changetype<usize>(wire), wire.byteLength);
    memory.fill(changetype<usize>(wire), 0, wire.byteLength);
    expect(pairs.name(0)).toBe("a");
    expect(pairs.value(0)).toBe("1");
  });

  it("gives an empty view for an empty, short or malformed block", () => {
    expect(HeaderPairs.parse(0, 0).count).toBe(0);
    expect(HeaderPairs.parse(changetype<usize>(bytesOf([0])), 1).count).toBe(0);
    // A count the block cannot hold.
    const tooMany = bytesOf([0xff, 0xff, 0xff, 0x0f, 1, 0, 0, 0, 1, 0, 0, 0, 0x61, 0, 0x62, 0]);
    expect(HeaderPairs.parse(changetype<usize>(tooMany), tooMany.byteLength).count).toBe(0);
    // One entry whose lengths run past the end.
    const overrun = bytesOf([1, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0x61, 0, 0x62, 0]);
    expect(HeaderPairs.parse(changetype<usize>(overrun), overrun.byteLength).count).toBe(0);
    // Lengths near 2^32 must not wrap around the bound.
    const huge = bytesOf([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0x61, 0, 0x62, 0]);
    expect(HeaderPairs.parse(changetype<usize>(huge), huge.byteLength).count).toBe(0);
  });
});
