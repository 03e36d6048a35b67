import {
  getProperty, getPropertyString, getPropertyI64, getPropertyU64, getPropertyF64, getPropertyBool, getPropertyMap,
  setPropertyString, attributes, lastResult, WasmResult,
} from "../index";
import * as mock from "./host";
import { bytesOf, hexOf } from "./host";

export { malloc } from "../exports";

// Registers `value` for the NUL-joined `path` in the mock host.
function hostProperty(path: string, value: ArrayBuffer): void {
  const encoded = String.UTF8.encode(path.replaceAll("/", "\0"));
  mock.setPropertyRaw(changetype<usize>(encoded), encoded.byteLength, changetype<usize>(value), value.byteLength);
}

describe("properties", () => {
  beforeEach(() => {
    mock.reset();
  });

  it("joins path segments with NUL and no trailing NUL", () => {
    getPropertyString(["request", "path"]);
    expect(mock.lastPropertyPath()).toBe("72 65 71 75 65 73 74 00 70 61 74 68");
    getPropertyString(["plugin_name"]);
    expect(mock.lastPropertyPath()).toBe("70 6c 75 67 69 6e 5f 6e 61 6d 65");
  });

  it("decodes strings, and null with NotFound when absent", () => {
    hostProperty("request/path", String.UTF8.encode("/a?b=1"));
    expect(attributes.requestPath()).toBe("/a?b=1");
    expect(attributes.requestMethod()).toBeNull();
    expect(lastResult()).toBe(WasmResult.NotFound);
  });

  it("decodes an empty string value as empty, not absent", () => {
    hostProperty("request/query", new ArrayBuffer(0));
    expect(attributes.requestQuery()).toBe("");
  });

  it("decodes int64, uint64 and double as 8 bytes little-endian", () => {
    hostProperty("source/port", bytesOf([0x50, 0xc3, 0, 0, 0, 0, 0, 0]));
    expect(attributes.sourcePort()).toBe(50000);
    hostProperty("neg", bytesOf([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(getPropertyI64(["neg"])).toBe(-2);
    hostProperty("connection/id", bytesOf([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(attributes.connectionId()).toBe(u64.MAX_VALUE);
    hostProperty("ratio", bytesOf([0, 0, 0, 0, 0, 0, 0xf8, 0x3f]));
    expect(getPropertyF64(["ratio"])).toBe(1.5);
  });

  it("decodes timestamps and durations as int64 nanoseconds", () => {
    // 1700000000123456789 ns = 0x17979CFE3D85CD15
    hostProperty("request/time", bytesOf([0x15, 0xcd, 0x85, 0x3d, 0xfe, 0x9c, 0x97, 0x17]));
    expect(attributes.requestTime()).toBe(1700000000123456789);
  });

  it("gives 0 for a too-short numeric value and an absent one", () => {
    hostProperty("short", bytesOf([1, 2, 3]));
    expect(getPropertyU64(["short"])).toBe(0);
    expect(getPropertyI64(["missing"])).toBe(0);
    expect(lastResult()).toBe(WasmResult.NotFound);
  });

  it("decodes bool as one byte", () => {
    hostProperty("connection/mtls", bytesOf([1]));
    expect(attributes.connectionMtls()).toBe(true);
    hostProperty("connection/mtls", bytesOf([0]));
    expect(attributes.connectionMtls()).toBe(false);
    expect(getPropertyBool(["absent"])).toBe(false);
  });

  it("decodes maps as pairs", () => {
    const map = bytesOf([2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x6b, 0, 0x76, 0, 0x6b, 0x32, 0, 0]);
    hostProperty("xds/node/metadata", map);
    const entries = getPropertyMap(["xds", "node", "metadata"])!;
    expect(entries.length).toBe(2);
    expect(entries[0].key).toBe("k");
    expect(entries[0].value).toBe("v");
    expect(entries[1].key).toBe("k2");
    expect(entries[1].valueBytes.byteLength).toBe(0);
    expect(getPropertyMap(["nothing"]) === null).toBe(true);
  });

  it("returns raw bytes unchanged", () => {
    hostProperty("raw", bytesOf([0xff, 0x00, 0x7f]));
    expect(hexOf(getProperty(["raw"])!)).toBe("ff 00 7f");
  });

  it("writes a property that reads back", () => {
    expect(setPropertyString("my_key", "my value")).toBe(WasmResult.Ok);
    expect(getPropertyString(["my_key"])).toBe("my value");
  });
});
