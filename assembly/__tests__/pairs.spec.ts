import { Header, serializePairs, deserializePairs } from "../runtime/pairs";
import { bytesOf, hexOf } from "./bytes";

function roundTrip(headers: Array<Header>): Array<Header> {
  const wire = serializePairs(headers);
  return deserializePairs(changetype<usize>(wire), wire.byteLength);
}

describe("pairs serialisation", () => {
  it("encodes the documented example byte for byte", () => {
    const wire = serializePairs([Header.of("a", "1"), Header.of("bb", "22")]);
    expect(hexOf(wire)).toBe("02 00 00 00 01 00 00 00 01 00 00 00 02 00 00 00 02 00 00 00 61 00 31 00 62 62 00 32 32 00");
  });

  it("round-trips non-UTF-8 keys and values unchanged", () => {
    const key = bytesOf([0xff, 0x41, 0x00, 0xc3]);
    const value = bytesOf([0x80, 0xfe, 0x0a]);
    const back = roundTrip([new Header(key, value), Header.of("x-ok", "yes")]);
    expect(back.length).toBe(2);
    expect(hexOf(back[0].keyBytes)).toBe("ff 41 00 c3");
    expect(hexOf(back[0].valueBytes)).toBe("80 fe 0a");
    expect(back[0].value).toBe("\uFFFD\uFFFD\n"); // invalid UTF-8: the bytes form is the truth
    expect(back[1].key).toBe("x-ok");
    expect(back[1].value).toBe("yes");
  });

  it("round-trips empty keys and values and non-ASCII text", () => {
    const back = roundTrip([Header.of("", ""), Header.of("héllo", "✓ ok")]);
    expect(back.length).toBe(2);
    expect(back[0].keyBytes.byteLength).toBe(0);
    expect(back[0].valueBytes.byteLength).toBe(0);
    expect(back[1].key).toBe("héllo");
    expect(back[1].value).toBe("✓ ok");
  });

  it("encodes an empty map as a zero count", () => {
    expect(hexOf(serializePairs([]))).toBe("00 00 00 00");
    expect(roundTrip([]).length).toBe(0);
  });

  it("reads size 0 (the host's empty map) and the 1-byte form as empty", () => {
    expect(deserializePairs(0, 0).length).toBe(0);
    const one = bytesOf([0]);
    expect(deserializePairs(changetype<usize>(one), 1).length).toBe(0);
  });

  it("reads a truncated or lying block as empty instead of trapping", () => {
    const wire = serializePairs([Header.of("key", "value")]);
    expect(deserializePairs(changetype<usize>(wire), wire.byteLength - 1).length).toBe(0);
    const huge = bytesOf([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
    expect(deserializePairs(changetype<usize>(huge), huge.byteLength).length).toBe(0);
    const overrun = bytesOf([1, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x61, 0, 0]);
    expect(deserializePairs(changetype<usize>(overrun), overrun.byteLength).length).toBe(0);
  });
});
