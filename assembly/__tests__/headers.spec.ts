import {
  MapType, WasmResult, lastResult, requestHeaders, responseHeaders, httpCallResponseHeaders, Header,
} from "../index";
import * as mock from "./host";
import { bytesOf, hexOf } from "./host";

// The mock host calls the allocator, so it must be an export of this test module.
export { malloc } from "../exports";

describe("header maps", () => {
  beforeEach(() => {
    mock.reset();
  });

  it("gets a value, and null with NotFound for an absent key", () => {
    mock.setHeader(MapType.RequestHeaders, ":path", "/hello");
    expect(requestHeaders.get(":path")).toBe("/hello");
    expect(lastResult()).toBe(WasmResult.Ok);
    expect(requestHeaders.get("x-missing")).toBeNull();
    expect(lastResult()).toBe(WasmResult.NotFound);
  });

  it("returns null with BadArgument when the map is unavailable", () => {
    expect(responseHeaders.get("location")).toBeNull();
    expect(lastResult()).toBe(WasmResult.BadArgument);
    expect(responseHeaders.add("a", "b")).toBe(WasmResult.BadArgument);
    expect(responseHeaders.getAll().length).toBe(0);
  });

  it("reads an empty value (ptr 0, size 0) as an empty string, not null", () => {
    mock.setHeader(MapType.RequestHeaders, "x-empty", "");
    const value = requestHeaders.get("x-empty");
    expect(value).not.toBeNull();
    expect(value!).toBe("");
    expect(requestHeaders.getBytes("x-empty")!.byteLength).toBe(0);
  });

  it("gives non-UTF-8 values byte for byte through getBytes", () => {
    const key = String.UTF8.encode("x-bin");
    const value = bytesOf([0xff, 0x41, 0x00, 0x80]);
    mock.setHeaderRaw(MapType.RequestHeaders, changetype<usize>(key), key.byteLength, changetype<usize>(value), value.byteLength);
    expect(hexOf(requestHeaders.getBytes("x-bin")!)).toBe("ff 41 00 80");
    // The string form replaces each invalid sequence with U+FFFD.
    expect(requestHeaders.get("x-bin")!).toBe("\uFFFDA\0\uFFFD");
  });

  it("adds, replaces and removes entries in the host map", () => {
    mock.setHeader(MapType.ResponseHeaders, "location", "/old");
    mock.setHeader(MapType.ResponseHeaders, "x-a", "1");
    expect(responseHeaders.add("x-a", "2")).toBe(WasmResult.Ok);
    expect(responseHeaders.replace("location", "envoy-wasm")).toBe(WasmResult.Ok);
    expect(responseHeaders.add("hello", "world!")).toBe(WasmResult.Ok);
    expect(mock.mapText(MapType.ResponseHeaders)).toBe("x-a=1,x-a=2,location=envoy-wasm,hello=world!");
    expect(responseHeaders.remove("x-a")).toBe(WasmResult.Ok);
    expect(responseHeaders.remove("x-never")).toBe(WasmResult.Ok);
    expect(mock.mapText(MapType.ResponseHeaders)).toBe("location=envoy-wasm,hello=world!");
  });

  it("adds and replaces raw-bytes values", () => {
    mock.openMap(MapType.ResponseHeaders);
    responseHeaders.addBytes("x-raw", bytesOf([0xc3, 0x28]));
    responseHeaders.replaceBytes("x-raw2", bytesOf([0x00]));
    expect(mock.mapText(MapType.ResponseHeaders)).toBe("x-raw=<c3 28>,x-raw2=<00>");
  });

  it("gets all entries in host order, and an empty list for an empty map", () => {
    mock.openMap(MapType.HttpCallResponseHeaders);
    expect(httpCallResponseHeaders.getAll().length).toBe(0);
    mock.setHeader(MapType.RequestHeaders, ":method", "GET");
    mock.setHeader(MapType.RequestHeaders, "b", "2");
    mock.setHeader(MapType.RequestHeaders, "b", "3");
    const all = requestHeaders.getAll();
    expect(all.length).toBe(3);
    expect(all[0].key).toBe(":method");
    expect(all[0].value).toBe("GET");
    expect(all[2].key).toBe("b");
    expect(all[2].value).toBe("3");
  });

  it("sets all entries at once", () => {
    mock.setHeader(MapType.RequestHeaders, "old", "x");
    expect(requestHeaders.setAll([Header.of("a", "1"), Header.of("a", "2")])).toBe(WasmResult.Ok);
    expect(mock.mapText(MapType.RequestHeaders)).toBe("a=1,a=2");
    expect(requestHeaders.setAll([])).toBe(WasmResult.Ok);
    expect(mock.mapText(MapType.RequestHeaders)).toBe("");
  });

  it("reports the host's byte size, 0 when unavailable", () => {
    mock.setHeader(MapType.RequestHeaders, "ab", "cde");
    expect(requestHeaders.byteSize()).toBe(5);
    expect(responseHeaders.byteSize()).toBe(0);
    expect(lastResult()).toBe(WasmResult.BadArgument);
  });

  it("makes exactly one host round trip per map operation", () => {
    mock.setHeader(MapType.RequestHeaders, "a", "1");
    requestHeaders.get("a");
    requestHeaders.add("b", "2");
    requestHeaders.replace("c", "3");
    requestHeaders.remove("a");
    requestHeaders.getAll();
    expect(mock.headerHostcalls()).toBe(5);
  });
});

describe("allocator under GC pressure", () => {
  beforeEach(() => {
    mock.reset();
  });

  it("keeps host-written blocks intact across full collections", () => {
    mock.setGcPressure(1);
    mock.setHeader(MapType.RequestHeaders, "x-long", "0123456789abcdefghijklmnopqrstuvwxyz-0123456789");
    mock.setHeader(MapType.RequestHeaders, "x-b", "second-value");
    for (let i = 0; i < 200; i++) {
      expect(requestHeaders.get("x-long")).toBe("0123456789abcdefghijklmnopqrstuvwxyz-0123456789");
      const all = requestHeaders.getAll();
      expect(all.length).toBe(2);
      expect(all[1].value).toBe("second-value");
    }
    expect(mock.collections()).toBe(400);
  });

  it("frees every block it receives (memory stays flat)", () => {
    mock.setHeader(MapType.RequestHeaders, "x-a", "a value that is long enough to matter in the heap");
    for (let i = 0; i < 1000; i++) requestHeaders.get("x-a");
    __collect();
    const before = mock.memoryBytes();
    for (let i = 0; i < 20000; i++) requestHeaders.get("x-a");
    __collect();
    expect(mock.memoryBytes()).toBe(before);
  });
});
